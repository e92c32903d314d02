"""Config loading and validation: every problem names its key path; the bot never starts on a broken file."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.config import BUNDLED_NOTES, Config, ConfigError, load_config
from knowledge.engine import EngineOptions

REPO = Path(__file__).resolve().parents[1]


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_without_a_file_use_the_bundled_notes(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)  # no file is searched for, whatever the working directory holds
    (tmp_path / "config.yaml").write_text("nonsense: [", encoding="utf-8")
    config = load_config()
    assert config.notes.folders == (BUNDLED_NOTES,)
    assert BUNDLED_NOTES.is_dir()
    assert config.discord.token_env == "DISCORD_TOKEN"
    assert config.discord.channels == () and config.discord.dms is False
    assert config.source is None


def test_repo_config_yaml_is_valid_and_complete():
    config = load_config(REPO / "config.yaml")
    assert config.notes.folders == (BUNDLED_NOTES,)
    assert config.engine_options() == EngineOptions()  # the engine's own defaults, not copies
    # The shipped file documents every key with its default value.
    defaults = Config()
    assert config.answers == defaults.answers
    assert config.notes == defaults.notes
    assert config.logging == defaults.logging
    assert config.journal == defaults.journal
    text = (REPO / "config.yaml").read_text(encoding="utf-8")
    for key in ("folders", "base_url", "fallback_languages", "max_note_bytes", "workers", "watch", "min_confidence",
                "not_sure_confidence",
                "token_env", "guild_ids", "channels", "trigger", "dms", "reply_in_thread",
                "unknown_in_channels", "cooldown", "rate", "per_seconds", "admin_role_ids",
                "admin_user_ids", "data_dir", "api_url", "gateway_url", "level", "journal", "enabled", "path",
                "retention_days", "store_user_ids"):
        assert f"{key}:" in text, key


def test_relative_folders_resolve_against_the_config_file(tmp_path, monkeypatch):
    (tmp_path / "cfg" / "my-notes").mkdir(parents=True)
    path = tmp_path / "cfg" / "bot.yaml"
    path.write_text("notes:\n  folders: [my-notes]\ndiscord:\n  data_dir: state\n", encoding="utf-8")
    monkeypatch.chdir("/")
    config = load_config(path)
    assert config.notes.folders == ((tmp_path / "cfg" / "my-notes").resolve(),)
    assert config.discord.data_dir == (tmp_path / "cfg" / "state").resolve()
    assert config.source == path.resolve()


def test_notes_option_replaces_the_folders_and_resolves_against_cwd(tmp_path, monkeypatch):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    monkeypatch.chdir(tmp_path)
    config = load_config(REPO / "config.yaml", notes=["a", tmp_path / "b"])
    assert config.notes.folders == (tmp_path / "a", tmp_path / "b")
    with pytest.raises(ConfigError, match=r"^--notes\[0\]: folder not found: .*missing"):
        load_config(None, notes=["missing"])


def test_full_config_is_read(tmp_path):
    path = write(tmp_path, """
notes:
  base_url: https://blog.example/
  fallback_languages: [es-ES, original]
  max_note_bytes: 1000
  workers: 2
answers:
  min_confidence: 0.5
  not_sure_confidence: 0.25
discord:
  token_env: MY_TOKEN
  guild_ids: [111, "222"]
  channels: [333]
  trigger: every
  dms: true
  reply_in_thread: true
  unknown_in_channels: react
  cooldown: {rate: 2, per_seconds: 10}
  admin_role_ids: [444]
  admin_user_ids: [555]
  api_url: http://127.0.0.1:5/api/v10
  gateway_url: ws://127.0.0.1:5/gw
logging:
  level: debug
""")
    config = load_config(path)
    d = config.discord
    assert (d.token_env, d.guild_ids, d.channels, d.trigger) == ("MY_TOKEN", (111, 222), (333,), "every")
    assert d.dms and d.reply_in_thread and d.unknown_in_channels == "react" and d.typed_questions
    assert (d.cooldown.rate, d.cooldown.per_seconds) == (2, 10.0)
    assert (d.admin_role_ids, d.admin_user_ids) == ((444,), (555,))
    assert (d.api_url, d.gateway_url) == ("http://127.0.0.1:5/api/v10", "ws://127.0.0.1:5/gw")
    assert config.logging.level == "DEBUG"
    assert config.engine_options() == EngineOptions(
        fallback_languages=("es", "original"), base_url="https://blog.example/", max_note_bytes=1000,
            min_confidence=0.5, not_sure_confidence=0.25,
        workers=2,
    )


def test_empty_file_means_defaults(tmp_path):
    assert load_config(write(tmp_path, "# nothing\n")).notes.folders == (BUNDLED_NOTES,)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("discord:\n  channels: [1, general]\n",
         r"^discord\.channels\[1\]: expected a channel ID \(integer\), got 'general'$"),
        ("discord:\n  chanels: [1]\n", r"^unknown key 'discord\.chanels' \(did you mean 'discord\.channels'\?\)$"),
        ("notes:\n  folders: [/definitely/not/here]\n",
         r"^notes\.folders\[0\]: folder not found: /definitely/not/here$"),
        ("notez: {}\n", r"^unknown key 'notez' \(did you mean 'notes'\?\)$"),
        ("discord:\n  dms: 'yes please'\n", r"^discord\.dms: expected true or false"),
        ("discord:\n  trigger: sometimes\n", r"^discord\.trigger: expected one of question, every, got 'sometimes'$"),
        ("discord:\n  unknown_in_channels: shout\n", r"^discord\.unknown_in_channels: expected one of quiet, react"),
        ("discord:\n  cooldown: {rate: 0}\n", r"^discord\.cooldown\.rate: expected an integer of at least 1, got 0$"),
        ("discord:\n  cooldown: {per_seconds: fast}\n", r"^discord\.cooldown\.per_seconds: expected a number"),
        ("discord:\n  cooldown: {burst: 3}\n", r"^unknown key 'discord\.cooldown\.burst'"),
        ("discord:\n  guild_ids: 123\n", r"^discord\.guild_ids: expected a list, got 123$"),
        ("discord:\n  admin_role_ids: [true]\n", r"^discord\.admin_role_ids\[0\]: expected a role ID"),
        ("discord:\n  admin_user_ids: [-5]\n", r"^discord\.admin_user_ids\[0\]: expected a user ID"),
        ("discord:\n  token_env: 'not a name'\n", r"^discord\.token_env: expected the name of an environment variable"),
        ("discord: [1, 2]\n", r"^discord: expected a mapping of keys, got a list$"),
        ("- a\n- b\n", r"^\(top level\): expected a mapping"),
        ("answers:\n  min_confidence: 2\n", r"^answers\.min_confidence: expected a number between 0.0 and 1.0, got 2$"),
        ("answers:\n  not_sure_confidence: -0.1\n",
         r"^answers\.not_sure_confidence: expected a number between 0.0 and 1.0, got -0.1$"),
        ("notes:\n  base_url: blog.example\n", r"^notes\.base_url: expected a URL starting with http:// or https://"),
        ("notes:\n  max_note_bytes: 1.5\n", r"^notes\.max_note_bytes: expected an integer, got 1.5$"),
        ("notes:\n  workers: 0\n", r"^notes\.workers: expected an integer of at least 1, got 0$"),
        ("notes:\n  fallback_languages: [english!]\n", r"^notes\.fallback_languages\[0\]: expected a language code"),
        ("notes:\n  folders: []\n", r"^notes\.folders: at least one folder is needed$"),
        ("discord:\n  api_url: ws://x\n", r"^discord\.api_url: expected a URL starting with http:// or https://, got 'ws://x'$"),
        ("discord:\n  gateway_url: http://x\n", r"^discord\.gateway_url: expected a URL starting with ws:// or wss://"),
        ("logging:\n  level: LOUD\n", r"^logging\.level: expected one of DEBUG, INFO"),
    ],
)
def test_problems_name_the_key_path(tmp_path, text, message):
    with pytest.raises(ConfigError, match=message):
        load_config(write(tmp_path, text))


def test_a_file_folder_is_not_a_notes_folder(tmp_path):
    (tmp_path / "file.md").write_text("x", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"^notes\.folders\[0\]: not a folder: "):
        load_config(write(tmp_path, "notes:\n  folders: [file.md]\n"))


def test_missing_file_and_bad_yaml_are_config_errors(tmp_path):
    with pytest.raises(ConfigError, match="config file not found"):
        load_config(tmp_path / "nope.yaml")
    with pytest.raises(ConfigError, match=r"config\.yaml:\d+: not valid YAML"):
        load_config(write(tmp_path, "discord:\n  channels: [1\n  dms: true\n"))


def test_config_error_is_a_value_error():
    assert issubclass(ConfigError, ValueError)


def test_default_data_dir_follows_xdg_state_home(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    assert load_config().discord.data_dir == tmp_path / "notes-bot"
    monkeypatch.delenv("XDG_STATE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert load_config().discord.data_dir == tmp_path / ".local" / "state" / "notes-bot"


def test_config_is_frozen():
    config = load_config()
    with pytest.raises(AttributeError):
        config.discord.dms = True  # type: ignore[misc]


def test_journal_keys_are_read_and_validated(tmp_path):
    config = load_config(write(tmp_path, "journal:\n  path: data/j.sqlite3\n  retention_days: 0\n"
                                          "  store_user_ids: true\n  enabled: false\n"))
    assert config.journal.path == (tmp_path / "data" / "j.sqlite3").resolve()  # against the file's folder
    assert (config.journal.retention_days, config.journal.store_user_ids, config.journal.enabled) == (0, True, False)
    assert config.journal_path == config.journal.path
    defaults = load_config(write(tmp_path, "discord:\n  data_dir: state\n"))
    assert defaults.journal_path == (tmp_path / "state" / "journal.sqlite3").resolve()
    assert (defaults.journal.retention_days, defaults.journal.store_user_ids) == (30, False)
    for text, message in (
        ("journal:\n  retention_days: -1\n", "journal.retention_days: expected an integer of at least 0"),
        ("journal:\n  retention_days: 30 days\n", "journal.retention_days: expected an integer"),
        ("journal:\n  store_user_ids: sometimes\n", "journal.store_user_ids: expected true or false"),
        ("journal:\n  enable: true\n", "unknown key 'journal.enable' (did you mean 'journal.enabled'?)"),
        ("journal:\n  path: .\n", "journal.path: expected a file"),
    ):
        with pytest.raises(ConfigError, match=re.escape(message)):
            load_config(write(tmp_path, text))

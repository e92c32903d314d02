# The notes bot in a container, built without network access: every package comes from a
# wheelhouse made beforehand, on a machine that can reach PyPI, with the same Python minor
# version as the image (numpy, rapidfuzz and watchfiles ship compiled wheels):
#
#   python3.11 -m pip wheel --wheel-dir wheelhouse '.[watch]'
#   docker build -t notes-bot .
#   docker run -d --name notes-bot --env-file bot.env \
#     -v "$PWD/config.yaml:/config/config.yaml:ro" -v "$HOME/blog:/notes:ro" -v notes-bot-data:/data notes-bot
#
# bot.env holds DISCORD_TOKEN=...; config.yaml names /notes (or a folder under it) in notes.folders.
FROM python:3.11-slim

RUN useradd --system --uid 10001 --home-dir /data --shell /usr/sbin/nologin bot \
    && mkdir -p /data /config /notes && chown bot:bot /data

COPY wheelhouse/ /tmp/wheelhouse/
RUN pip install --no-cache-dir --no-index --find-links /tmp/wheelhouse 'notes-bot[watch]' \
    && rm -rf /tmp/wheelhouse

# data_dir defaults to $XDG_STATE_HOME/notes-bot: /data/notes-bot, on the volume.
ENV XDG_STATE_HOME=/data \
    PYTHONUNBUFFERED=1
VOLUME /data
USER bot
WORKDIR /data

# `docker stop` sends SIGTERM: a clean stop, exit 0.
STOPSIGNAL SIGTERM
ENTRYPOINT ["notes-bot"]
CMD ["run", "--config", "/config/config.yaml"]

"""Detect the language of a short question (a chat message, often half product names).

Script first, statistics last: measured on short tech questions, deciding by Unicode
script (kana -> ja, Hangul -> ko, Han -> zh / zh-hant, Arabic -> ar, Devanagari -> hi,
Cyrillic -> ru) and running py3langid only on Latin text, restricted to the six Latin
candidates, beats any single general detector; see bench/language_detection.py.

Latin text is decided by py3langid plus cheap, strong evidence that short questions
still carry: marks (¿ ñ ß ã ...) and function words. Product names, commands and
identifiers ("DeepSeek", "vLLM", "ps -ef", "eclipse.ini") are dropped first, because
they look English to every detector whatever the language of the question.

`hint` (a locale such as "es-ES") decides only when the text carries no evidence or
when the evidence is a close call; with no hint and no evidence the answer is "en".
"""
from __future__ import annotations

import functools
import math
import re
import unicodedata
from typing import TYPE_CHECKING

from rapidfuzz import fuzz, process

from .languages import canonical_language

if TYPE_CHECKING:
    from py3langid.langid import LanguageIdentifier

LANGUAGES: tuple[str, ...] = (
    "en", "zh", "zh-hant", "ja", "es", "fr", "de", "hi", "ar", "pt", "it", "ru", "ko",
)
LATIN_CANDIDATES: tuple[str, ...] = ("en", "es", "fr", "de", "pt", "it")
DEFAULT = "en"

# Only the start of a message is read: a question's language shows in its first lines,
# and this bounds the time spent on pasted logs.
_MAX_CHARS = 1000

# ---------------------------------------------------------------- Han tables
# Aligned pairs: simplified-only character, traditional-only counterpart. Each simplified
# character is in GB2312 and each traditional one is outside it (tests check both), so
# a hit is real evidence; characters both scripts use (用, 里, 后, 台, 干 ...) are left out.
_SIMPLIFIED_ONLY = (
    "这们说对时为么个来国会学发体点开关问题语认实现样过还没进动经与从电机话间网络数据"
    "长东车书门马鱼鸟见贝页风飞龙齐区华业务产无专义乐买卖习乡争亚亲亿仅仓价众优传伤伦"
    "佣侧俭债倾储儿兑党兰兴养兽册写军农决况冻净凉减凤凭击创删别刘则刚剧劳势医单卫却厂"
    "厅历压县参双变叙号叹吗听启员响团园围图圆场坏块坚坛垫执报声处备复头夺奋妇妈孙宝审"
    "宪寻导将尔尘尝层属岁岛币师带帮广庆库应庙废张弹归录彻径忆怀态总恋恶惊惯愿戏战户扑"
    "扩扫扬护拟拥择挂挤挥损换摄摆断旧显晋晒术杀杂权条杨极构枪柜标栏树档桥梦检楼欢欧残"
    "毕气汇汉汤沟泪泽洁测济浏浓涨润渐温湾满滚灭灯灵灾炉炼烟热爱爷状犹独猎猫献环玛画畅"
    "疗疯盐监盖盘矿码础确碍礼祸离种积称稳穷窃竞笔签简类粮紧纠红级约纪纯纸线练组细终绍"
    "结给绝统继绩续维综绿编缓缩罗罚职联聪肠肤胜脑脚脱舰艺节苏荣药获莱营萨虑虫虽补袭装"
    "观规视览觉计订讨让训议讯记讲许论设访证评识译试诗该详误请读课调谈谢负财责败货质购"
    "贯费贴贵贷贸资赏赛赞赢赵趋跃践转轮软轻载较辅辆输辑边达迁运远违连迟选递逻遗邮邻郑"
    "释针钟钢钱钥铁银链销锁错键镜闭闲闻阅队阳阴阵际陆陈险随隐难雾静须领频颜额饭饮馆驱"
    "验骂鸡黄齿龄厉叠卢哑唤嘱坝壮夹奖妆娱婴宁宾宽尽岗帅帐帧弃当忧怜恳悬扰抢担拦拨挡捡"
    "携敌旷昼晓暂枫柠栈栋桩椭毁沪泼浅浆浇浊涛涡渊渔溃滤滥潜澜灿烁烦烧烫焕牵狮猪琐疮瘫"
    "皱盏盗矫砖硕祷禅秃窜窝竖笼筹篮纤纬纳纵纷纹纺绑绒绕绘绪绳绵缆缝缴罢耸聋肃肿胀脸腻"
    "舱艰莲蓝虾蚀衬袜裤触誉讶诉诊词询诚诱谁谋谓谜谨谱贡贪贫贺赌赔赖赚赠轨轴辉辈辞辩迈"
    "逊遥邓酱酿钓钞钮铃铅铜铺锅锋锐锦镇闪闯闹阀阁阔阶韩顶项顺预顽顾顿颗飘饰饱饼饿馈驶"
    "驾骑骗鲜鸣鸭麦异丢办账虚"
)
_TRADITIONAL_ONLY = (
    "這們說對時為麼個來國會學發體點開關問題語認實現樣過還沒進動經與從電機話間網絡數據"
    "長東車書門馬魚鳥見貝頁風飛龍齊區華業務產無專義樂買賣習鄉爭亞親億僅倉價眾優傳傷倫"
    "傭側儉債傾儲兒兌黨蘭興養獸冊寫軍農決況凍淨涼減鳳憑擊創刪別劉則剛劇勞勢醫單衛卻廠"
    "廳歷壓縣參雙變敘號嘆嗎聽啟員響團園圍圖圓場壞塊堅壇墊執報聲處備復頭奪奮婦媽孫寶審"
    "憲尋導將爾塵嘗層屬歲島幣師帶幫廣慶庫應廟廢張彈歸錄徹徑憶懷態總戀惡驚慣願戲戰戶撲"
    "擴掃揚護擬擁擇掛擠揮損換攝擺斷舊顯晉曬術殺雜權條楊極構槍櫃標欄樹檔橋夢檢樓歡歐殘"
    "畢氣匯漢湯溝淚澤潔測濟瀏濃漲潤漸溫灣滿滾滅燈靈災爐煉煙熱愛爺狀猶獨獵貓獻環瑪畫暢"
    "療瘋鹽監蓋盤礦碼礎確礙禮禍離種積稱穩窮竊競筆簽簡類糧緊糾紅級約紀純紙線練組細終紹"
    "結給絕統繼績續維綜綠編緩縮羅罰職聯聰腸膚勝腦腳脫艦藝節蘇榮藥獲萊營薩慮蟲雖補襲裝"
    "觀規視覽覺計訂討讓訓議訊記講許論設訪證評識譯試詩該詳誤請讀課調談謝負財責敗貨質購"
    "貫費貼貴貸貿資賞賽贊贏趙趨躍踐轉輪軟輕載較輔輛輸輯邊達遷運遠違連遲選遞邏遺郵鄰鄭"
    "釋針鐘鋼錢鑰鐵銀鏈銷鎖錯鍵鏡閉閒聞閱隊陽陰陣際陸陳險隨隱難霧靜須領頻顏額飯飲館驅"
    "驗罵雞黃齒齡厲疊盧啞喚囑壩壯夾獎妝娛嬰寧賓寬盡崗帥帳幀棄當憂憐懇懸擾搶擔攔撥擋撿"
    "攜敵曠晝曉暫楓檸棧棟樁橢毀滬潑淺漿澆濁濤渦淵漁潰濾濫潛瀾燦爍煩燒燙煥牽獅豬瑣瘡癱"
    "皺盞盜矯磚碩禱禪禿竄窩豎籠籌籃纖緯納縱紛紋紡綁絨繞繪緒繩綿纜縫繳罷聳聾肅腫脹臉膩"
    "艙艱蓮藍蝦蝕襯襪褲觸譽訝訴診詞詢誠誘誰謀謂謎謹譜貢貪貧賀賭賠賴賺贈軌軸輝輩辭辯邁"
    "遜遙鄧醬釀釣鈔鈕鈴鉛銅鋪鍋鋒銳錦鎮閃闖鬧閥閣闊階韓頂項順預頑顧頓顆飄飾飽餅餓饋駛"
    "駕騎騙鮮鳴鴨麥異丟辦賬虛"
)
# Unpaired extras: 着 (traditional writes 著, which simplified also uses), 裡/裏 (simplified 里
# is shared, so only the traditional side is evidence).
SIMPLIFIED_CHARS: frozenset[str] = frozenset(_SIMPLIFIED_ONLY + "着")
TRADITIONAL_CHARS: frozenset[str] = frozenset(_TRADITIONAL_ONLY + "裡裏")
# Japanese shinjitai forms that neither Chinese script uses (outside GB2312 and Big5):
# a kana-less Han text containing one is Japanese.
JAPANESE_KANJI: frozenset[str] = frozenset(
    "対変図発気駅読続広収単価楽検済戦転労営様拡択権歴総鉄効処圧帰両満辺込働県桜沢仮歳縦銭説実売覚験悪掲関"
)

# ---------------------------------------------------------------- Latin evidence
# Function and question words: what a three-word question still carries. A word listed
# for several languages counts for each of them, so it only separates those from the rest.
_FUNCTION_WORDS: dict[str, frozenset[str]] = {
    "en": frozenset(
        "what whats what's how does do did is are was were the a an which why can could should "
        "would will use using used of to in on for with from my i it this that these and or not "
        "when where who there be you your have has get any between vs difference than doesn't "
        "don't can't isn't does't wat teh if help".split()
    ),
    "es": frozenset(
        "qué que cómo como cuál cual cuáles cuales cuántos cuantos cuánto cuanto cuántas cuantas "
        "de por porqué porque es el la los las un una unos usa usar usan tiene tienen para con mi mis "
        "q tal del se en y o hay puedo puede sirve funciona está esta están son lo al sin sobre "
        "entre qué hace hacer cuando donde dónde su sus muy pero más mas ya le no si sí "
        "xq pq porq tb tmb alguien ayuda".split()
    ),
    "fr": frozenset(
        "est-ce est qu'est-ce que quel quelle quels quelles comment pourquoi le les des une un "
        "utilise utiliser utilisent du de la et ou pour avec dans sur je il on pas ne c'est j'ai "
        "mon ma mes ce cette ces sont faire peut puis quoi où au aux se son sa ses en l' d' qu' "
        "j' n' c' s' y a-t-il a ça ca utilisé qqn qqch pb stp svp bcp marche".split()
    ),
    "de": frozenset(
        "was wie wann warum welche welcher welches welchen ist der die das und nicht zeigt ein "
        "eine einen einem ich mit für fuer auf von zu im den dem des kann wird gibt man mein "
        "meine bei oder wo wer sind hat auch noch aus nach unter zwischen wieso funktioniert "
        "benutzt verwendet an ob sich mir mich kein keine jemand geht gibts hilfe".split()
    ),
    "it": frozenset(
        "come cosa perché perche usa il della dello delle dei degli del che è e di da per con non "
        "un una uno gli le lo la sono quale quali quanto quanti quante dove quando nel nella nei "
        "si mi ho posso funziona serve anche ma in l' un' dell' all' c'è qual è qualcuno cmq "
        "perchè riesco aiuto".split()
    ),
    "pt": frozenset(
        "como o que não nao é de da do para uma você voce os as em no na um qual quais quanto quantos "
        "por porque com se isso esse essa está esta são tem usa usar funciona meu minha ao dos "
        "das pra pelo pela sobre entre mais ou e vc pq tb tbm alguem alguém ajuda".split()
    ),
}

# Letters that short texts still show: (characters, language, weight). Accents shared by
# several candidates (é, á, ó, ú, í) are left to py3langid.
_MARKS: tuple[tuple[str, str, float], ...] = (
    ("ñ", "es", 3.0),
    ("ß", "de", 3.0),
    ("äöü", "de", 2.0),
    ("œ", "fr", 3.0),
    ("ç", "fr", 1.0),
    ("ç", "pt", 1.0),
    ("èêàùâîôëï", "fr", 1.0),
    ("ãõ", "pt", 3.0),
    ("âêô", "pt", 0.5),
    ("òìù", "it", 1.0),
    ("è", "it", 0.5),
)
# Opening ¿ ¡ are punctuation, outside every word, and often the only Spanish left in a
# question made of names ("¿vLLM soporta gRPC?").
_SPANISH_PUNCTUATION = "¿¡"
_SPANISH_PUNCTUATION_WEIGHT = 3.0
_MISSPELT_MIN = 5  # letters: shorter words are too often one letter off some name
_MISSPELT_RATIO = 85.0

_URL = re.compile(r"(?:https?://|ftp://|www\.)\S+", re.IGNORECASE)
_CODE_BLOCK = re.compile(r"```.*?(?:```|\Z)", re.DOTALL)
_INLINE_CODE = re.compile(r"`[^`\n]*`")
# A Latin-script word, with inner apostrophes or hyphens ("est-ce", "l'option"); other
# scripts are counted by _script_counts, so "Kafka消费者" yields only "Kafka".
_LATIN = "A-Za-zªºÀ-ÖØ-öø-ɏḀ-ỿ"
_WORD = re.compile(rf"[{_LATIN}]+(?:['’\-][{_LATIN}]+)*")
_ELISION = re.compile(r"^(qu|[ldjcnsm]|un|dell|all|nell|sull)['’](?=\w)", re.IGNORECASE)


def detect_language(text: str, hint: str | None = None, names: frozenset[str] = frozenset()) -> str:
    """The language code of `text`: one of LANGUAGES. `names`: folded words that are the same in
    every language (knowledge.names learns them from the notes); they do not vote."""
    return detect_language_scored(text, hint, names)[0]


def detect_language_scored(text: str, hint: str | None = None, names: frozenset[str] = frozenset()
                           ) -> tuple[str, float]:
    """(code, confidence 0..1). Confidence 0.0 means nothing in the text decided: the hint
    (or "en") was returned."""
    fallback = _hint_language(hint)
    clean = _strip_noise(text)
    if not clean:
        return fallback or DEFAULT, 0.0
    counts = _script_counts(clean)
    latin_words = _content_words(clean, names)
    decided = _by_script(counts, clean, latin_words, fallback)
    if decided is not None:
        return decided
    return _latin_language(latin_words, clean, fallback)


# ---------------------------------------------------------------- cleaning


def _hint_language(hint: str | None) -> str | None:
    lang = canonical_language(hint)
    return lang if lang in LANGUAGES else None


def _strip_noise(text: object) -> str:
    """Text without code, URLs, emoji, symbols and control characters (a chat's own markup, such
    as Discord's mentions, is the caller's to remove)."""
    if not isinstance(text, str):
        return ""
    text = text[: _MAX_CHARS * 4]
    text = _CODE_BLOCK.sub(" ", text)
    text = _INLINE_CODE.sub(" ", text)
    text = _URL.sub(" ", text)
    # Emoji and pictographs (So, Sk) and control/format/private/unassigned characters (C*)
    # carry no language; lone surrogates would also break py3langid's UTF-8 encoding. Math
    # and currency symbols stay: they mark tokens such as "c++" or "a=b" as code.
    kept = [
        " " if (cat := unicodedata.category(ch)) in ("So", "Sk") or cat[0] == "C" else ch
        for ch in text[: _MAX_CHARS * 2]
    ]
    return " ".join("".join(kept).split())[:_MAX_CHARS]


# ---------------------------------------------------------------- scripts

_SCRIPT_RANGES: tuple[tuple[int, int, str], ...] = (
    (0x0400, 0x052F, "cyrillic"),
    (0x0600, 0x06FF, "arabic"),
    (0x0750, 0x077F, "arabic"),
    (0x08A0, 0x08FF, "arabic"),
    (0x0900, 0x097F, "devanagari"),
    (0x1100, 0x11FF, "hangul"),
    (0x3040, 0x309F, "kana"),
    (0x30A0, 0x30FA, "kana"),  # 30FB (katakana middle dot) is used in Chinese too
    (0x30FC, 0x30FF, "kana"),
    (0x3130, 0x318F, "hangul"),
    (0x31F0, 0x31FF, "kana"),
    (0x3400, 0x4DBF, "han"),
    (0x4E00, 0x9FFF, "han"),
    (0xA960, 0xA97F, "hangul"),
    (0xAC00, 0xD7AF, "hangul"),
    (0xF900, 0xFAFF, "han"),
    (0xFB50, 0xFDFF, "arabic"),
    (0xFE70, 0xFEFF, "arabic"),
    (0xFF66, 0xFF9F, "kana"),
    (0x20000, 0x3134F, "han"),
)


def _script_of(ch: str) -> str | None:
    cp = ord(ch)
    if cp < 0x250 or 0x1E00 <= cp <= 0x1EFF:
        return "latin" if ch.isalpha() else None
    for low, high, script in _SCRIPT_RANGES:
        if cp < low:
            break
        if cp <= high:
            # Marks count: Devanagari vowel signs are letters' halves, not punctuation.
            return script if ch.isalpha() or unicodedata.category(ch).startswith("M") else None
    return "other" if ch.isalpha() else None


def _script_counts(text: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    for ch in text:
        script = _script_of(ch)
        if script is not None:
            counts[script] = counts.get(script, 0) + 1
    return counts


_SCRIPT_LANGUAGE = {"hangul": "ko", "arabic": "ar", "devanagari": "hi", "cyrillic": "ru"}


def _by_script(
    counts: dict[str, int], text: str, latin_words: list[str], fallback: str | None
) -> tuple[str, float] | None:
    """Decide by a non-Latin script, or None to let the Latin detector decide."""
    cjk = counts.get("han", 0) + counts.get("kana", 0) + counts.get("hangul", 0)
    # CJK characters are roughly half a word each; alphabetic scripts are counted in words.
    units = {
        "cjk": math.ceil(cjk / 2),
        "arabic": _words_in(text, "arabic"),
        "devanagari": _words_in(text, "devanagari"),
        "cyrillic": _words_in(text, "cyrillic"),
    }
    group, size = max(units.items(), key=lambda item: item[1])
    if size == 0:
        if counts.get("other") and not latin_words:
            return fallback or DEFAULT, 0.0  # Greek, Hebrew, Thai...: no supported language
        return None
    # A Latin sentence quoting a few foreign characters ("que significa 你好") stays Latin:
    # it wins with a function word and more words than the foreign run. Single letters
    # ("A와 B의 차이") are left out; they are variables more often than words there.
    words = [word for word in latin_words if len(word) > 1]
    if len(words) > size and any(word in vocabulary for word in words for vocabulary in _FUNCTION_WORDS.values()):
        return None
    total_letters = sum(counts.values())
    if group != "cjk":
        share = counts.get(group, 0) / max(total_letters - counts.get("latin", 0), 1)
        return _SCRIPT_LANGUAGE[group], round(min(1.0, 0.7 + 0.3 * share), 3)
    kana, hangul = counts.get("kana", 0), counts.get("hangul", 0)
    if hangul and hangul >= kana:
        return "ko", 0.99
    if kana:
        return "ja", 0.99
    return _han_language(text, fallback)


def _words_in(text: str, script: str) -> int:
    words, inside = 0, False
    for ch in text:
        now = _script_of(ch) == script
        words += now and not inside
        inside = now
    return words


def _han_language(text: str, fallback: str | None) -> tuple[str, float]:
    """Han without kana or Hangul: simplified, traditional, or (rarely) Japanese."""
    simplified = sum(ch in SIMPLIFIED_CHARS for ch in text)
    traditional = sum(ch in TRADITIONAL_CHARS for ch in text)
    japanese = sum(ch in JAPANESE_KANJI for ch in text)
    if japanese > max(simplified, traditional) / 2:
        return "ja", 0.8
    if simplified == traditional:
        # No script-specific character (日本名言): a Chinese-family hint decides, else zh.
        if fallback in ("zh", "zh-hant", "ja"):
            return fallback, 0.5
        return "zh", 0.5 if simplified == 0 else 0.55
    lang = "zh-hant" if traditional > simplified else "zh"
    margin = abs(traditional - simplified) / (traditional + simplified)
    return lang, round(0.6 + 0.4 * margin, 3)


# ---------------------------------------------------------------- Latin text


def _is_tech_token(token: str, names: frozenset[str] = frozenset()) -> bool:
    """Identifiers, commands, versions and product names: language-neutral."""
    core = token.strip(".,;:!?¿¡()[]{}\"'«»“”‘’*_~<>")
    if not core:
        return True
    if core.startswith("-") or any(ch.isdigit() for ch in core):
        return True  # -ef, v3, gpt-4o, log4j
    if any(ch in core for ch in "./\\_=+#@$%&|"):
        return True  # eclipse.ini, /etc/hosts, snake_case, c++
    letters = [ch for ch in core if ch.isalpha()]
    if any(ch.isupper() for ch in letters[1:]) and not core.isupper():
        return True  # DeepSeek, vLLM, GitHub, iPhone
    if len(letters) >= 2 and core.isupper() and core.isascii():
        return True  # API, GPU, JVM
    return core.lower() in names


def _content_words(text: str, names: frozenset[str] = frozenset()) -> list[str]:
    """Lower-cased Latin words outside tech tokens and names; elisions split off (l'option -> l', option)."""
    if text.isupper():
        text = text.lower()  # shouting would make every word look like an acronym
    words: list[str] = []
    for token in text.split():
        if _is_tech_token(token, names):
            continue
        for word in _WORD.findall(token):
            word = word.lower().replace("’", "'")
            match = _ELISION.match(word)
            if match:
                words.append(match.group(0))
                word = word[match.end():]
            if word and word not in names and not _misspelt_name(word, names):
                words.append(word)
    return words


def _misspelt_name(word: str, names: frozenset[str]) -> bool:
    """"deepsek" for "deepseek": a long word that is not a function word of any language and is one
    or two letters off a name counts as that name ("deepsek usa vllm" is Spanish, not English)."""
    if len(word) < _MISSPELT_MIN or not names or any(word in words for words in _FUNCTION_WORDS.values()):
        return False
    near = _names_by_letter(names).get(word[0], ())
    near = [name for name in near if abs(len(name) - len(word)) <= 2]
    return bool(near) and process.extractOne(word, near, scorer=fuzz.ratio, score_cutoff=_MISSPELT_RATIO) is not None


@functools.lru_cache(maxsize=4)
def _names_by_letter(names: frozenset[str]) -> dict[str, tuple[str, ...]]:
    buckets: dict[str, list[str]] = {}
    for name in names:
        buckets.setdefault(name[:1], []).append(name)
    return {letter: tuple(found) for letter, found in buckets.items()}


@functools.lru_cache(maxsize=1)
def _latin_identifier() -> LanguageIdentifier:
    """py3langid restricted to the Latin candidates; built once, then only read (loading
    the bundled model takes ~0.5 s, so it waits for the first Latin-script question)."""
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    identifier.set_languages(list(LATIN_CANDIDATES))
    try:  # the full model (all 97 languages, ~20 MB) is only kept to choose other languages later
        identifier._full_model = None
    except AttributeError:  # another py3langid: it keeps what it keeps
        pass
    return identifier


# How much py3langid's probability weighs against one function word; the hint only
# breaks close calls.
_LANGID_WEIGHT = 2.0
_HINT_PRIOR = 0.6


def _latin_language(words: list[str], text: str, fallback: str | None) -> tuple[str, float]:
    """Decide among LATIN_CANDIDATES from the content words (and ¿ ¡ in the cleaned text)."""
    spanish_marks = any(ch in _SPANISH_PUNCTUATION for ch in text)
    if not words:
        return ("es", 0.6) if spanish_marks else (fallback or DEFAULT, 0.0)
    scores = dict.fromkeys(LATIN_CANDIDATES, 0.0)
    evidence = 0.0
    if spanish_marks:
        scores["es"] += _SPANISH_PUNCTUATION_WEIGHT
        evidence += _SPANISH_PUNCTUATION_WEIGHT
    for word in words:
        for lang, vocabulary in _FUNCTION_WORDS.items():
            if word in vocabulary:
                scores[lang] += 1.0
                evidence += 1.0
    joined = " ".join(words)
    for chars, lang, weight in _MARKS:
        hits = sum(joined.count(ch) for ch in chars)
        if hits:
            scores[lang] += weight * min(hits, 2)
            evidence += weight
    probabilities = dict(_latin_identifier().rank(joined))
    for lang in LATIN_CANDIDATES:
        scores[lang] += _LANGID_WEIGHT * probabilities.get(lang, 0.0)
    best_langid = max(probabilities.values(), default=0.0)
    if evidence == 0 and len(words) <= 2 and best_langid < 0.6:
        # One or two ordinary words and no marks ("Physics", "Rizo"): too little to tell.
        return fallback or DEFAULT, 0.0
    # The hint breaks close calls. Without one, a text with no function word and no mark
    # leans English: its words are then mostly tech vocabulary ("Command Line Essentials"),
    # which py3langid, trained on general text, often files as French or Italian.
    prior = fallback or (DEFAULT if evidence == 0 else None)
    if prior in scores:
        scores[prior] += _HINT_PRIOR
    lang = max(scores, key=scores.__getitem__)
    # Softmax over the points: a lead of one function word is ~0.7, of three ~0.95.
    confidence = 1.0 / sum(math.exp(score - scores[lang]) for score in scores.values())
    return lang, round(confidence, 3)

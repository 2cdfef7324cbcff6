"""Knowledge-base articles as the domain sees them: references, front matter, and the
text analysis and ranking that decide which articles answer a message.

Pure functions, no I/O. The same analysis runs on the articles when they are written and
on a message when it is searched, so SQLite's FTS5 index and PostgreSQL's tsvector hold
the same terms and both databases rank by the same numbers (bot/storage/kb_search.py).
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from bot.domain.errors import Unreadable

INTERNAL_TAG = "internal"
TIP_TAG = "tip"

_REF = re.compile(r"^\s*(?:kb-?)?(\d{1,9})\s*$", re.I)


def parse_ref(text: str) -> int:
    """The number of ``KB-12`` or ``12``; raises Unreadable otherwise."""
    match = _REF.match(text or "")
    if not match or int(match.group(1)) < 1:
        raise Unreadable("input.bad_article_ref", text=text)
    return int(match.group(1))


def ref_of(number: int) -> str:
    """How people read an article's number."""
    return f"KB-{number}"


@dataclass(frozen=True)
class Article:
    """One article of a workspace's knowledge base."""

    id: int
    workspace_id: int
    number: int
    title: str
    body: str
    tags: tuple[str, ...]
    updated_at: datetime
    author_id: int | None = None
    suggested: int = 0
    opened: int = 0
    helpful: int = 0

    @property
    def ref(self) -> str:
        """``KB-N``."""
        return ref_of(self.number)

    @property
    def summary(self) -> str:
        """The body's first paragraph as plain text (no Markdown marks): an excerpt."""
        for paragraph in self.body.split("\n\n"):
            plain = " ".join(paragraph.replace("**", "").replace("`", "").split())
            if plain and not plain.startswith("#"):
                return plain
        return ""

    @property
    def internal(self) -> bool:
        """Articles tagged ``internal`` are for staff only, never shown to a requester."""
        return INTERNAL_TAG in self.tags


def normalise_tags(tags) -> tuple[str, ...]:
    """Tags as a tuple of distinct lower-case words, in the order given."""
    if isinstance(tags, str):
        tags = re.split(r"[,\s]+", tags)
    out = [str(t).strip().strip("#").lower() for t in tags or ()]
    return tuple(dict.fromkeys(t for t in out if t))


# --- Markdown with front matter -------------------------------------------------------

@dataclass(frozen=True)
class ArticleFile:
    """An article as read from a Markdown file: ``number`` is None when it had no id."""

    number: int | None
    title: str
    body: str
    tags: tuple[str, ...] = ()


def _value(raw: str):
    raw = raw.strip()
    if raw.startswith("[") and raw.endswith("]"):
        return [_value(part) for part in raw[1:-1].split(",") if part.strip()]
    if len(raw) >= 2 and raw[0] == raw[-1] and raw[0] in "'\"":
        return raw[1:-1]
    return raw


def parse_markdown(text: str) -> ArticleFile:
    """Read an article file: YAML front matter (``id``, ``title``, ``tags``; the simple
    ``key: value`` and ``[a, b]`` forms, or a ``- item`` list) and a Markdown body.
    A first ``# Heading`` equal to the title is not repeated in the body. Raises
    Unreadable naming what is missing."""
    text = text.lstrip("\ufeff").replace("\r\n", "\n")
    meta: dict[str, object] = {}
    body = text
    if text.startswith("---\n"):
        end = text.find("\n---", 4)
        if end < 0:
            raise Unreadable("kb.file_unclosed_front_matter")
        last = None
        for line in text[4:end].splitlines():
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            if line.lstrip().startswith("- ") and last is not None:
                meta.setdefault(last, [])
                if isinstance(meta[last], list):
                    meta[last].append(_value(line.lstrip()[2:]))
                continue
            key, sep, value = line.partition(":")
            if not sep:
                raise Unreadable("kb.file_bad_front_matter", line=line.strip())
            last = key.strip().lower()
            meta[last] = _value(value) if value.strip() else []
        body = text[end + 4:].split("\n", 1)[1] if "\n" in text[end + 4:] else ""
    body = body.strip()
    title = str(meta.get("title") or "").strip()
    heading = re.match(r"#\s+(.+)\n?", body)
    if heading and (not title or heading.group(1).strip() == title):
        title = title or heading.group(1).strip()
        body = body[heading.end():].strip()
    if not title:
        raise Unreadable("kb.file_no_title")
    raw_id = meta.get("id")
    number = parse_ref(str(raw_id)) if raw_id not in (None, "", []) else None
    return ArticleFile(number, title, body, normalise_tags(meta.get("tags") or ()))


def render_markdown(article: Article) -> str:
    """The file ``kb export`` writes: front matter, a heading, the body."""
    tags = ", ".join(article.tags)
    title = article.title.replace("\n", " ")
    return (f"---\nid: {article.ref}\ntitle: {title}\ntags: [{tags}]\n---\n\n"
            f"# {title}\n\n{article.body.strip()}\n")


def file_name(article: Article) -> str:
    """``kb-007-wifi-slow.md``: sortable, readable, stable for one title."""
    slug = re.sub(r"[^a-z0-9]+", "-", _fold(article.title)).strip("-")[:50].strip("-")
    return f"kb-{article.number:03d}-{slug or 'article'}.md"


# --- Analysis -------------------------------------------------------------------------

# Words that say nothing about which article answers a message, including chat filler.
STOPWORDS = frozenset("""
a about above after again against all also am an and any anyone anything are as at be
because been before being below between both but by can cannot cant could did do does
doing done dont down during each even ever every few for from further get gets getting
got had has have having he hello help her here hers hi him his how i id if im in into is
it its itself ive just keep keeps like lot me more most my myself need needs no nor not
now of off ok okay on once one only or other our ours out over own please pls really same
say said says she should so some something still stuff such than thank thanks that the
their them then there these they thing this those tho though through to today tomorrow
too u under until up ur very want wants was way we were what when where which while who
whom why will with would yesterday you your yours
arent didnt doesnt isnt thats theres theyre wasnt whats wont youre
""".split())


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in text if not unicodedata.combining(c))


def stem(word: str) -> str:
    """A light English stemmer (plurals, -ing, -ed, -ly): enough that "drops",
    "dropping" and "dropped" meet, without Porter's surprises on short words."""
    for suffix, replacement in (("ies", "y"), ("ied", "y"), ("sses", "ss"), ("ing", ""),
                                ("edly", ""), ("ed", ""), ("ly", ""), ("es", ""), ("s", "")):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            if suffix == "s" and word.endswith(("ss", "us", "is")):
                break
            word = word[:-len(suffix)] + replacement
            if suffix in ("ing", "ed") and len(word) >= 2 and word[-1] == word[-2] \
                    and word[-1] not in "lsz":
                word = word[:-1]
            break
    if word.endswith("e") and len(word) > 4:
        word = word[:-1]
    return word


def words(text: str) -> list[str]:
    """Lower-case words and numbers, accents folded, "n't" spelled out."""
    text = _fold(text).replace("\u2019", "'")
    # "won't" and "can't" first (stop words, as typed without the apostrophe): the rule
    # for "n't" would leave "wo" and "ca" as words.
    text = text.replace("won't", "wont").replace("can't", "cant")
    text = text.replace("n't", " not").replace("'s", "")
    return re.findall(r"[a-z0-9]+", text)


def analyse(text: str) -> list[str]:
    """The index terms of ``text``: stemmed words that are not stop words."""
    return [stem(w) for w in words(text) if len(w) > 1 and w not in STOPWORDS]


def index_terms(title: str, tags, body: str) -> tuple[str, str, str]:
    """The analysed text of each field, as stored in the full-text index."""
    return (" ".join(analyse(title)), " ".join(analyse(" ".join(tags))),
            " ".join(analyse(body)))


def _edits(word: str) -> set[str]:
    letters = "abcdefghijklmnopqrstuvwxyz0123456789"
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    return ({a + b[1:] for a, b in splits if b}
            | {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1}
            | {a + c + b[1:] for a, b in splits if b for c in letters}
            | {a + c + b for a, b in splits for c in letters})


# Words people use for the same thing in IT, written for the domain (not for any
# particular message or article): a message's word also finds the others, a little less
# strongly than itself, and the group counts once in the confidence.
SYNONYM_GROUPS = (
    "password passwd pw passcode passphrase", "login logon signin", "wifi wireless wlan",
    "laptop computer pc notebook macbook", "email mail inbox mailbox",
    "mobile phone smartphone cellphone", "monitor screen display",
    "mfa 2fa authenticator otp", "internet network connection", "printer copier",
    "slow sluggish laggy lag", "crash crashes freeze frozen hang hangs",
    "delete deleted erase erased", "restore recover undelete", "install download",
    "access permission permissions rights", "hacked compromised phishing scam",
    "headset headphones earphones earbuds", "microphone mic", "camera webcam",
    "file document", "disk drive storage", "update upgrade patch", "stolen lost",
    "charger charging", "app application software program",
    "error warning", "locked lockout", "expire expired expiry", "shared share",
    "calendar schedule", "meeting call", "wake sleep", "dead power",
)
SYNONYMS: dict[str, tuple[str, ...]] = {}
for _group in SYNONYM_GROUPS:
    _terms = tuple(dict.fromkeys(stem(w) for w in _group.split()))
    for _term in _terms:
        SYNONYMS[_term] = SYNONYMS.get(_term, ()) + tuple(t for t in _terms if t != _term)
SYNONYM_WEIGHT = 0.7


@dataclass(frozen=True)
class Slot:
    """One word of a message: its term and the other words that mean the same."""

    term: str
    alternatives: tuple[str, ...] = ()


# Spelling is corrected for words of five to twenty letters: shorter ones have too many
# neighbours, and longer ones are tokens, hashes and pasted logs, whose one-edit spellings
# (about 72 per letter, each as long as the word) would cost memory by the square of
# their length: a 50,000-letter word would need gigabytes.
CORRECTED_LENGTHS = range(5, 21)
# At most this many of a message's words are corrected: a pasted log has hundreds.
MAX_CORRECTIONS = 40


def query_slots(text: str, vocabulary) -> list[Slot]:
    """The distinct words of a message as slots. A word the articles never use, of five
    to twenty letters, is read as its closest spelling one edit away that they do use
    ("pritner" is "printer"), the most common one when several are."""
    out: dict[str, Slot] = {}
    corrections = 0
    for word in words(text):
        if len(word) < 2 or word in STOPWORDS:
            continue
        term = stem(word)
        # A word the articles know by a synonym is not a typo; and typing rarely gets
        # the first letter wrong, so a correction keeps it ("mouse" is not "house").
        if (term not in vocabulary and len(word) in CORRECTED_LENGTHS
                and corrections < MAX_CORRECTIONS
                and not any(t in vocabulary for t in SYNONYMS.get(term, ()))):
            corrections += 1
            # Most corrections are words the articles use as they are; failing that, the
            # stem one edit away ("conecting" -> "conect" -> "connect"), which is much
            # cheaper than stemming each of hundreds of edits of the word.
            near = [e for e in _edits(word) if e in vocabulary and e[:1] == word[:1]] or [
                e for e in _edits(term) if e in vocabulary and e[:1] == word[:1]]
            if near:
                term = max(near, key=lambda t: (vocabulary[t], t))
        if term not in out:
            out[term] = Slot(term, tuple(t for t in SYNONYMS.get(term, ()) if t in vocabulary))
    return list(out.values())


def slot_terms(slots: list[Slot]) -> list[str]:
    """Every term of a message's slots: its words and their synonyms."""
    return list(dict.fromkeys(t for slot in slots for t in (slot.term, *slot.alternatives)))


# --- Ranking --------------------------------------------------------------------------

FIELD_WEIGHTS = (3.0, 2.0, 1.0)  # title above tags above body
K1, B = 1.2, 0.75
# An article's first words (analysed: stop words out) say what it is about, like its
# title: about a short first paragraph of two or three sentences.
LEAD_TERMS = 20


@dataclass
class CorpusStats:
    """What ranking needs of a workspace's whole knowledge base: how many articles, how
    many use each term, the average length of each field."""

    articles: int = 0
    df: Counter = field(default_factory=Counter)
    length_sum: list[int] = field(default_factory=lambda: [0, 0, 0])

    def add(self, fields: tuple[str, str, str]) -> None:
        """Count one article's analysed fields in."""
        self.articles += 1
        terms = set()
        for i, text in enumerate(fields):
            split = text.split()
            self.length_sum[i] += len(split)
            terms.update(split)
        self.df.update(terms)

    def idf(self, term: str) -> float:
        """BM25's inverse document frequency (never negative)."""
        n, df = self.articles, self.df.get(term, 0)
        return math.log(1 + (n - df + 0.5) / (df + 0.5))

    def unknown_idf(self) -> float:
        """The weight of a term no article uses: as rare as a term can be."""
        return math.log(1 + (self.articles + 0.5) / 0.5)


@dataclass(frozen=True)
class Evidence:
    """How one article answers a message: its BM25F score and the share of the
    message's weight (IDF) it holds anywhere (``coverage``) and where the article says
    what it is about (``heading_coverage``: its title, its tags, its opening words)."""

    score: float
    coverage: float
    heading_coverage: float


def evidence(slots: list[Slot], fields: tuple[str, str, str],
             stats: CorpusStats) -> Evidence:
    """BM25F of one article for a message's ``slots`` and how much of the message it
    covers. A slot scores by its best term (a synonym at SYNONYM_WEIGHT)."""
    if not slots or not stats.articles:
        return Evidence(0.0, 0.0, 0.0)
    # Only the message's terms are counted: a body has hundreds of terms, a message a
    # handful, and list.count runs in C.
    wanted = slot_terms(slots)
    tokens = [text.split() for text in fields]
    counts = [{t: n for t in wanted if (n := split.count(t))} for split in tokens]
    lengths = [len(split) for split in tokens]
    averages = [max(total / stats.articles, 1.0) for total in stats.length_sum]
    lead = set(tokens[2][:LEAD_TERMS])

    def part(term: str) -> float:
        tf = sum(weight * count[term] / (1 - B + B * length / average)
                 for weight, count, length, average
                 in zip(FIELD_WEIGHTS, counts, lengths, averages) if term in count)
        return stats.idf(term) * tf / (K1 + tf) if tf else 0.0

    result = matched = heading = total = 0.0
    for slot in slots:
        terms = (slot.term, *slot.alternatives)
        known = [t for t in terms if t in stats.df]
        weight = max((stats.idf(t) for t in known), default=stats.unknown_idf())
        total += weight
        best = max([part(slot.term)] + [SYNONYM_WEIGHT * part(t) for t in slot.alternatives])
        if best:
            result += best
            matched += weight
            if any(t in counts[0] or t in counts[1] or t in lead for t in terms):
                heading += weight
    if not total:
        return Evidence(result, 0.0, 0.0)
    return Evidence(result, matched / total, heading / total)


@dataclass(frozen=True)
class Ranked:
    """One candidate article, ranked: ``key`` is the caller's (an article id)."""

    key: object
    score: float
    confidence: float


def confidence(best: Evidence, stats: CorpusStats) -> float:
    """How sure the desk is that an article answers the message, between 0 and about 1.

    Its BM25F score over the largest weight one term can have in the knowledge base (so
    the threshold means the same with ten articles or thousands), times the share of the
    message's weight it holds, times how much of that is where the article says what it
    is about (title, tags, opening words): a word met only deeper in the body counts
    half. Messages an article answers name what it is about; messages nothing answers
    tend to meet articles on a word or two in passing."""
    return (best.score / stats.unknown_idf() * best.coverage
            * (0.5 + 0.5 * best.heading_coverage))


def rank(slots: list[Slot], candidates, stats: CorpusStats) -> list[Ranked]:
    """The ``(key, fields)`` candidates that match the message, best first (by score,
    then key), each with its :func:`confidence`."""
    found = [(evidence(slots, fields, stats), key) for key, fields in candidates]
    found.sort(key=lambda f: (-f[0].score, f[1]))
    return [Ranked(key, e.score, confidence(e, stats)) for e, key in found if e.score > 0]


# The one confidence (:func:`confidence`) a suggestion to a requester must reach: below
# it the desk suggests nothing, because a wrong suggestion is worse than none. Chosen on
# one half of a labelled set and checked on the other (docs/knowledge.md); bench/kb.py
# measures recall and false suggestions at this value.
SUGGEST_THRESHOLD = 0.3
MAX_SUGGESTIONS = 3

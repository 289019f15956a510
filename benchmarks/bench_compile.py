"""Compiler benchmark on the RefCOCOg dev file: throughput, and how often the head is right.

``python -m benchmarks.bench_compile [path]`` prints compile throughput (expressions per
second, and its ratio to spaCy's blank-pipeline tokenisation of the same texts), the rate of
the grammar's parsers alone over the same token streams, the verdict on issue 10's target
(with the compile / plain-LALR ratio, which carries across machines), then, last, the share
of expressions whose program target head names the annotated COCO category (judged only on
expressions that mention a noun of their category at all).
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections import Counter
from pathlib import Path

from benchmarks import DEV_FILE

# COCO category -> lemmas that name it (lower-case; matched against lemmatised tokens,
# and the compiler's head lemma). Written here for this benchmark, not used by the compiler.
_NOUNS = {
    "person": (
        "adult athlete audience aunt baby ballplayer baseman batter biker bloke blonde boy "
        "boyfriend bride brother brunette businessman catcher chap chef child children clown "
        "coach cook cop couple cowboy crowd customer cyclist dad daughter doctor driver dude fan "
        "farmer father fellow female fielder friend gal gentleman girl girlfriend goalie "
        "grandfather grandma grandmother grandpa granny groom guard guy hitter human husband "
        "individual infant infielder jockey kid kiddo kids lad lady male man men mom mother mum "
        "musician nephew niece nun nurse officer outfielder parent passenger pedestrian people "
        "person photographer pitcher player policeman policewoman priest referee rider runner "
        "shopper shortstop singer sister skateboarder skater skier snowboarder soldier somebody "
        "someone son spectator student surfboarder surfer teammate teen teenager toddler tourist "
        "umpire uncle vendor waiter waitress walker wife woman women worker youngster youth"
    ),
    "bicycle": "bicycle bike bmx cycle",
    "car": (
        "auto automobile cab car convertible coupe hatchback jeep minivan sedan suv taxi van "
        "vehicle wagon"
    ),
    "motorcycle": "bike cycle dirtbike harley moped motocycle motorbike motorcycle scooter",
    "airplane": "aeroplane airbus aircraft airliner airplane boeing jet jetliner plane",
    "bus": "bus buses coach doubledecker minibus shuttle trolley",
    "train": (
        "boxcar caboose car carriage cart engine locomotive railcar subway train tram trolley "
        "wagon"
    ),
    "truck": "bulldozer firetruck jeep lorry pickup semi suv tanker tractor trailer truck van vehicle",
    "boat": (
        "barge boat canoe dinghy ferry gondola kayak raft rowboat sailboat ship speedboat tugboat "
        "vessel yacht"
    ),
    "traffic light": "lamp light signal stoplight trafficlight",
    "fire hydrant": "hydrant",
    "stop sign": "sign stopsign",
    "parking meter": "meter parkingmeter",
    "bench": "bench pew seat",
    "bird": (
        "bird chicken crane crow dove duck eagle flamingo geese goose gull hawk hen heron ostrich "
        "owl parrot pelican penguin pigeon rooster seagull sparrow swan turkey vulcher vulture"
    ),
    "cat": "cat feline kitten kitty tabby",
    "dog": (
        "beagle bulldog canine chihuahua collie corgi dachshund dog doggie doggy hound husky lab "
        "labrador pitbull pooch poodle pup puppy retriever shepherd terrier"
    ),
    "horse": "colt donkey foal horse mare mule pony stallion",
    "sheep": "ewe goat lamb ram sheep",
    "cow": "bison buffalo bull calf cattle cow heifer ox steer yak",
    "elephant": "calf elephant",
    "bear": "bear cub grizzly",
    "zebra": "zebra",
    "giraffe": "giraff giraffe",
    "backpack": "backpack bag bookbag knapsack pack rucksack",
    "umbrella": "parasol umbrealla umbrela umbrella umprella",
    "handbag": "backpack bag clutch handbag pocketbook purse satchel tote",
    "tie": "bowtie necktie tie",
    "suitcase": "bag baggage briefcase case luggage suitcase trunk",
    "frisbee": "disc disk frisbe frisbee",
    "skis": "ski skis",
    "snowboard": "board snowboard",
    "sports ball": "ball baseball basketball football soccer volleyball",
    "kite": "kite",
    "baseball bat": "bat",
    "baseball glove": "glove mitt",
    "skateboard": "board skate skateboard",
    "surfboard": "board surf surfboard",
    "tennis racket": "racket racquet raquet",
    "bottle": "bottle flask jar",
    "wine glass": "flute glass goblet wineglass",
    "cup": "coffee cup glass mug tea teacup tumbler",
    "fork": "fork",
    "knife": "blade cleaver knife knive",
    "spoon": "ladle scoop spatula spoon",
    "bowl": "bowl dish",
    "banana": "banana bananas plantain",
    "apple": "apple",
    "sandwich": (
        "bread bun burger hamburger hoagie panini sandwhich sandwich sandwiches sub toast "
        "wrap"
    ),
    "orange": "citrus clementine grapefruit mandarin orange tangerine",
    "broccoli": "broccoli brocoli brocolli floret vegetable veggie",
    "carrot": "carrot carrots",
    "hot dog": "bratwurst dog frank hot hotdog sausage",
    "pizza": "pie pizza",
    "donut": "cruller donut doughnut pastry",
    "cake": "cake cheesecake cupcake dessert pastry pie",
    "chair": "armchair chair recliner rocker seat stool",
    "couch": "chair couch futon loveseat seat sectional settee sofa",
    "potted plant": "bush fern flower flowers houseplant plant planter pot shrub tree vase",
    "bed": "bed bunk cot crib mattress",
    "dining table": "counter countertop desk table tabletop",
    "toilet": "commode potty toilet urinal",
    "tv": "monitor screen tele television telly tv",
    "laptop": "computer laptop macbook netbook notebook pc",
    "mouse": "mouse",
    "remote": "control controller remote wiimote",
    "keyboard": "keyboard keypad",
    "cell phone": "cell cellphone iphone mobile phone smartphone",
    "microwave": "microwave oven",
    "oven": "oven range stove stovetop",
    "toaster": "toaster",
    "sink": "basin sink washbasin",
    "refrigerator": "freezer fridge frigerator refridgerator refrigerator",
    "book": "book books magazine notebook novel textbook",
    "clock": "clock watch",
    "vase": "bottle jar jug pitcher pot urn vase",
    "scissors": "scissor scissore scissors shears",
    "teddy bear": "animal bear plush teddy teddybear toy",
    "hair drier": "drier dryer hairdryer",
    "toothbrush": "brush toothbrush",
}
CATEGORY_NOUNS: dict[str, set[str]] = {cat: set(words.split()) for cat, words in _NOUNS.items()}


def load_dev(path: Path = DEV_FILE) -> list[dict]:
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def _lemmas(text: str) -> set[str]:
    from grammar.expression import blank_nlp

    doc = blank_nlp()(text)
    return {t.lemma_.lower() for t in doc} | {t.text.lower() for t in doc}


def head_accuracy(rows: list[dict], programs: list) -> tuple[int, int, list[tuple[str, str, str | None]]]:
    """(hits, judged, misses): judged = expressions naming a noun of their category."""
    hits = judged = 0
    misses: list[tuple[str, str, str | None]] = []
    for row, program in zip(rows, programs):
        nouns = CATEGORY_NOUNS.get(row["category"], {row["category"]})
        if not _lemmas(row["sentence"]) & nouns:
            continue
        judged += 1
        head = program.target.head
        if head in nouns:
            hits += 1
        else:
            misses.append((row["category"], row["sentence"], head))
    return hits, judged, misses


def throughput(texts: list[str], repeat: int = 3) -> tuple[float, float, float]:
    """(compile expressions/s, the same on the first pass, spaCy blank-pipeline texts/s):
    best of ``repeat`` passes. The compiler's memos (tokens per piece of text, parses per
    category sequence) are cleared before each pass, so a pass costs what one pass over
    these texts costs, repeats within it helping as they would in any batch."""
    import spacy

    from grammar import compile_expression
    from grammar.expression import clear_caches

    compile_expression("warm up the caches on the left")
    blank = spacy.blank("en")  # tokenisation only: the floor any spaCy-based compiler pays
    best_compile = best_tok = float("inf")
    first = 0.0
    for n in range(repeat):
        clear_caches()
        t0 = time.perf_counter()
        for text in texts:
            compile_expression(text)
        took = time.perf_counter() - t0
        first = took if n == 0 else first
        best_compile = min(best_compile, took)
        t0 = time.perf_counter()
        for text in texts:
            blank(text)
        best_tok = min(best_tok, time.perf_counter() - t0)
    return len(texts) / best_compile, len(texts) / first, len(texts) / best_tok


def main(argv: list[str] | None = None) -> int:
    from grammar import compile_expression

    argv = sys.argv[1:] if argv is None else argv
    paths = [a for a in argv if not a.startswith("-")]
    path = Path(paths[0]) if paths else DEV_FILE
    if not path.exists():
        print(f"bench_compile: dev file {path} not found (set RECLIP_DEV_FILE)")
        return 1
    rows = load_dev(path)
    texts = [r["sentence"] for r in rows]
    programs = [compile_expression(t) for t in texts]
    structured = sum(p.structured for p in programs)
    per_s, first_per_s, tok_per_s = throughput(texts)
    print(f"compile: {len(texts)} expressions from {path.name}, {structured} with spatial structure")
    print(f"compile throughput: {per_s:,.0f} expressions/s (best of 3 passes, memos cleared before each; "
          f"first pass {first_per_s:,.0f}/s); spaCy blank pipeline: {tok_per_s:,.0f} texts/s; "
          f"ratio compile/tokenise = {per_s / tok_per_s:.3f}")
    rates = parser_comparison(texts)
    print("expression.lark over the same token streams: "
          + ", ".join(f"{name} {rate:,.0f}/s" for name, rate in rates.items()))
    print(target_line(per_s, rates["lalr"]))
    hits, judged, misses = head_accuracy(rows, programs)
    if "-v" in argv or os.environ.get("RECLIP_BENCH_VERBOSE"):
        for cat, sentence, head in misses:
            print(f"  miss [{cat}] head={head!r}: {sentence}")
    kinds = Counter(cat for cat, _, _ in misses)
    print(f"head misses by category: {dict(kinds.most_common(8))}")
    print(f"target head names the category: {hits}/{judged} = {hits / judged:.1%} "
          f"(of {len(rows)} expressions, {judged} name their category)")
    return 0


# Issue 10's target, and the figures it was set against (compiler then: 6,340/s; plain LALR
# over the same token streams: 53,000/s). Plain LALR is pure-Python work of the same kind as
# the compiler's, so the ratio of the two is the figure that carries across machines.
TARGET_PER_S = 10_000
ISSUE_COMPILE_PER_S, ISSUE_LALR_PER_S = 6_340, 53_000


def target_line(per_s: float, lalr_per_s: float) -> str:
    """The target verdict, with the compile / plain-LALR ratio beside the one the target means."""
    verdict = "met" if per_s >= TARGET_PER_S else "NOT MET"
    return (f"target >= {TARGET_PER_S:,} expressions/s: {verdict} ({per_s:,.0f}/s); compile / plain LALR = "
            f"{per_s / lalr_per_s:.3f} (when the target was set: {ISSUE_COMPILE_PER_S / ISSUE_LALR_PER_S:.3f}; "
            f"the target on that machine: {TARGET_PER_S / ISSUE_LALR_PER_S:.3f})")


def parser_comparison(texts: list[str]) -> dict[str, float]:
    """Parses/s of expression.lark over the same categorised token streams: LALR as the
    compiler drives it (its parse stage over the chunks, retries included, its memo of
    category sequences cleared first), plain LALR replaying the settled tokens, and Earley."""
    from importlib import resources

    from lark import Lark, Token
    from lark.lexer import Lexer

    from grammar.expression import blank_nlp, clear_caches, doc_tokens, lex, lexicon_tables, parse, settle_context
    from primitives import REGISTRY

    class Replay(Lexer):  # the token streams are already categorised
        def __init__(self, lexer_conf):
            pass

        def lex(self, data):
            yield from data

    streams, chunk_lists = [], []
    for text in texts:
        table = lexicon_tables(REGISTRY)
        chunks = settle_context(lex(doc_tokens(blank_nlp()(text)), table, REGISTRY), table)
        chunk_lists.append(chunks)
        streams.append([Token(c.cat, c.lower) for c in parse(chunks).chunks])
    grammar = resources.files("grammar.expression").joinpath("expression.lark").read_text(encoding="utf-8")
    rates: dict[str, float] = {}
    clear_caches()
    t0 = time.perf_counter()
    for chunks in chunk_lists:
        parse(chunks)
    rates["lalr-compiler"] = len(texts) / (time.perf_counter() - t0)
    for name in ("lalr", "earley"):
        parser = Lark(grammar, parser=name, lexer=Replay)
        t0 = time.perf_counter()
        for stream in streams:
            parser.parse(stream)
        rates[name] = len(texts) / (time.perf_counter() - t0)
    return rates


if __name__ == "__main__":
    raise SystemExit(main())

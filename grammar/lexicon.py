"""The compiler's closed-class vocabulary beyond the primitives registry.

Relation, ternary and superlative words come from the registry (``REGISTRY.words``);
this module holds the words that are not primitives: determiners, ordinals,
intensifiers, part words, picture words, and the few spatial phrases the registry
cannot express as single words ("in front of"). All entries are lower-case surface
forms (spaCy's lookup lemmatizer turns "left" into "leave", so nothing here is a lemma).
Multi-word entries are space-separated and matched before single words.
"""

from __future__ import annotations

from grammar.ordinals import WORD_ORDINALS

DETERMINERS = frozenset({"the", "a", "an", "this", "that", "these", "those", "some", "any", "another"})
POSSESSIVES = frozenset({"his", "her", "its", "their", "my", "your", "our", "whose"})

# Prepositions that introduce a place without a landmark: "on the left", "at the top".
LOCATIVES = frozenset({"on", "at", "in", "to", "towards", "toward", "over", "into", "onto", "from"})

# Words that sharpen a direction and are dropped: "far right", "very left", "furthest left".
INTENSIFIERS = frozenset({
    "far", "very", "extreme", "extremely", "farthest", "furthest", "further", "farther",
    "most", "more", "all the way", "way", "all", "just", "slightly", "more to the",
    "the very", "absolute", "top most",
})

# Adverbs in front of a relation, absorbed into it: "right next to", "directly above".
RELATION_ADVERBS = frozenset({
    "right", "directly", "just", "immediately", "slightly", "partially", "partly", "mostly",
    "straight", "closely", "sitting", "standing", "located", "placed", "positioned",
})

# n-th words ("first", "twenty first": grammar.ordinals; digits, "11th", are read by
# grammar.ordinals.numeric_ordinal). "last" counts from the other end (see
# grammar.expression.builder._ordinal).
ORDINALS = WORD_ORDINALS
# (n, counted from the opposite end)
LAST_ORDINALS = {
    "last": 1, "second to last": 2, "second last": 2, "2nd to last": 2, "2nd last": 2,
    "next to last": 2, "third to last": 3, "third last": 3, "3rd to last": 3, "3rd last": 3,
    "second from last": 2,
}

# Words after a direction that name a region, dropped: "right side", "top left corner".
DIRECTION_PARTS = frozenset({
    "side", "end", "corner", "half", "part", "edge", "area", "section", "portion", "region",
    "hand side", "handside", "hand", "most", "sided", "row", "column", "spot", "position",
})

# Direction words that are also nouns for clothing or body parts ("a red top",
# "her back"): spatial only right after a preposition, determiner or direction.
NOUN_LIKE_DIRECTIONS = frozenset({"top", "back", "front", "bottom", "rear", "center", "centre", "middle"})
# "the back of a truck", "a slice of pizza", "one of the men": the referent is the owner.
OWNER_PARTS = NOUN_LIKE_DIRECTIONS | frozenset({
    "side", "half", "part", "corner", "end", "edge", "piece",
    "slice", "portion", "section", "chunk", "bit", "rest", "tip", "arm", "leg", "hand", "head",
    "face", "body", "tail", "foot", "feet", "shoulder", "reflection", "bunch", "pair", "pile",
    "group", "stack", "type", "kind", "sort", "one", "each", "both", "either", "all", "some",
    "two", "three", "four", "couple", "lot", "lots", "set", "row", "line", "sliver",
    "left", "right", "backside", "butt", "nose", "ear",
    "neck", "knee", "wing", "halves", "pieces", "slices", "legs", "arms", "hands",
    "ends", "sides", "parts", "none", "most", "edges", "remains", "remainder",
    "image", "photo", "picture", "profile", "view", "shot", "photograph", "hood", "trunk",
    "screen", "skin", "headboard", "saddle", "door", "wheel", "seat", "cushion", "cushions",
    "handle", "lid", "roof", "window", "windows", "cloth", "tablecloth", "surface", "taller",
    "shorter", "bigger", "smaller", "larger", "biggest", "smallest", "largest", "tallest",
    "pants", "jeans", "shirt", "jacket", "hat", "dress", "skirt", "shoes", "coat", "vest", "shorts",
})
# Part words that end a compound noun ("chair legs", "table top", "pizza slice"):
# the noun before them is the referent.
COMPOUND_PARTS = OWNER_PARTS - frozenset({
    "one", "each", "both", "either", "all", "some", "two", "three", "four", "none", "most",
    "left", "right", "middle", "center", "centre", "type", "kind", "sort", "lot", "lots", "rest",
    "taller", "shorter", "bigger", "smaller", "larger", "biggest", "smallest", "largest",
    "tallest", "back", "front", "bottom", "group", "pair", "set", "row", "line", "couple",
    "bunch", "pile", "stack", "body", "seat", "window", "windows", "screen", "picture",
}) | frozenset({"top", "legs", "leg"})
# Materials name what a thing is made of, not an owner: "wood door" is a door, "car door" a car.
MATERIALS = frozenset({
    "wood", "metal", "glass", "plastic", "stone", "brick", "paper", "leather", "steel", "iron",
    "wicker", "straw", "bamboo", "marble", "concrete", "cardboard", "rubber", "wire", "cloth",
    "fabric", "tile", "granite", "aluminum", "chrome", "ceramic", "porcelain", "vinyl",
})
COLORS = frozenset({
    "white", "black", "red", "blue", "green", "yellow", "brown", "gray", "grey", "pink",
    "purple", "silver", "gold", "golden", "tan", "beige", "dark", "navy", "maroon",
    "colored", "coloured", "striped", "plaid", "checkered", "spotted", "blonde", "teal",
})
# Adjectives that end a noun phrase after its noun ("a sink full of dishes").
POSTNOMINAL = frozenset({
    "full", "ready", "able", "visible", "alone", "close", "closes", "not", "no", "up", "down", "away",
    "straight",
})
# Past participles the lookup lemmatizer knows but WordNet lists as something else.
IRREGULAR_PARTICIPLES = frozenset({
    "sat", "seen", "held", "hung", "laid", "lain", "worn", "shown", "taken", "made", "eaten", "ridden",
    "driven", "thrown", "caught", "stuck", "built", "kept", "put", "cut", "set", "hit", "shot",
    "led", "fed", "bred", "given", "bitten", "chosen", "sold", "won",
})

# "of the picture", "in this image": a superlative's frame of reference, dropped.
SCENE_PREPOSITIONS = frozenset({"of", "in", "on", "from", "at"})
SCENE_NOUNS = frozenset({
    "picture", "pictures", "image", "images", "photo", "photos", "pic", "pics", "photograph",
    "frame", "screen", "scene", "shot", "view", "window",
})
# "of the two", "of them": the group a superlative picks from, not a landmark.
SCENE_GROUPS = frozenset({
    "two", "three", "four", "five", "them", "all", "others", "both", "group", "pair", "bunch", "row",
    "line", "set", "couple",
})
# "closest to the camera": the landmark is the viewer, so the phrase is a superlative.
CAMERA_NOUNS = frozenset({"camera", "viewer", "us", "me", "you", "photographer", "lens", "cameraman"})
CAMERA_SUPERLATIVES = {
    "closest": "closest", "nearest": "closest", "closer": "closest", "nearer": "closest",
    "close": "closest", "near": "closest",
    "farthest": "farthest", "furthest": "farthest", "further": "farthest", "farther": "farthest",
    "far": "farthest",
}

# Superlative words that are not registry words (kept here, checked against the
# registry so an unregistered name is never emitted).
EXTRA_SUPERLATIVES = {
    "back": "topmost", "background": "topmost", "rear": "topmost",
    "foreground": "bottommost", "front": "bottommost", "top most": "topmost",
    "bottom most": "bottommost", "upper most": "topmost", "lower most": "bottommost",
    "centre": "middle", "mid": "middle", "midle": "middle", "furthest away": "farthest",
    "farthest away": "farthest", "far away": "farthest", "far end": "farthest", "lefthand": "leftmost",
    "righthand": "rightmost",
}

# Prepositional relation phrases the registry's single words do not cover.
EXTRA_RELATIONS = {
    "in front of": "below", "in back of": "above", "on top of": "above", "inside of": "within",
    "contained in": "within", "near to": "near", "on the side of": "near", "close by": "near",
    "underneath of": "below", "on the other side of": "near", "adjacent to": "near",
    "next to": "near", "nearby": "near", "bigger than": "bigger_than", "larger than": "bigger_than",
    "smaller than": "smaller_than", "taller than": "bigger_than", "shorter than": "smaller_than",
}

# Registry relation words that are too ambiguous on their own in referring
# expressions ("man in red shirt" is clothing, not containment): kept as text.
AMBIGUOUS_RELATION_WORDS = frozenset({"in", "contained", "back", "front", "top", "on top"})
# Comparatives are relations only with "than" ("bigger than the dog").
COMPARATIVE_WORDS = frozenset({
    "bigger", "larger", "closer", "smaller", "tinier", "further", "farther", "taller", "shorter",
    "higher", "lower", "nearer",
})
# Size words, superlatives as ReCLIP reads them ("little girl" too); part prefixes in heads.
SIZE_WORDS = frozenset({"big", "large", "small", "little", "tiny", "huge", "giant"})

# Paired parts whose "left" / "right" is their own side ("the right arm of the man", "left
# hand"): intrinsic to the owner, not a place in the picture.
SIDED_PARTS = frozenset({
    "arm", "arms", "hand", "hands", "leg", "legs", "foot", "feet", "ear", "ears", "eye", "eyes",
    "shoulder", "shoulders", "knee", "knees", "wrist", "elbow", "ankle", "cheek", "wing", "wings",
    "paw", "paws", "glove", "shoe", "sleeve", "hip", "thigh",
})
# Nouns of the camera's viewpoint: a direction before them ("a front shot of", "rear view")
# says where the picture was taken from, not where the referent is.
VIEWPOINT_NOUNS = frozenset({"shot", "shots", "view", "views", "angle", "profile"})
# "facing left", "looking to the right": the direction of gaze, not a place.
GAZE_WORDS = frozenset({
    "facing", "faces", "face", "looking", "looks", "look", "turned", "turning", "turns",
    "pointing", "points", "heading", "headed", "leaning", "leans", "going", "moving", "walking",
    "glancing", "gazing", "staring", "stares", "towards", "toward", "tilted", "tilting", "bent",
    "bending",
})

# --- head finding (no trained parser) ------------------------------------------------
PREPOSITIONS = LOCATIVES | frozenset({
    "with", "of", "for", "near", "by", "under", "behind", "beside", "besides", "across", "along", "against", "around", "through",
    "inside", "outside", "without", "like", "than", "about", "after", "before", "during",
    "upon", "off", "while", "up", "down", "away", "inthe", "woth", "between", "among", "next", "below",
    "above", "beneath", "underneath",
    "past", "within", "beyond", "alongside", "atop", "wearing", "holding",
    "has", "having", "w/", "w", "w/o", "via", "except", "but", "out",
})
# A relative clause opener after a noun phrase ("the plate that is left of the bowl"):
# the spatial phrase after it describes that noun phrase, and the opener is not find text.
RELATIVE_PRONOUNS = frozenset({"that", "which", "who"})
COPULAS = frozenset({"is", "are", "was", "were", "'s", "’s"})
CLAUSE_WORDS = RELATIVE_PRONOUNS | COPULAS | frozenset({
    "whose", "whom", "where", "when", "be",
    "being", "been", "has", "have", "had", "can", "could", "does", "do", "did", "will", "would",
    "seems", "appears", "there", "so", "if", "because", "as", "but", "nor",
    "then", "its", "it", "not", "named", "labeled", "called", "we", "you", "i", "he", "she", "they",
})
# Words allowed between the copula and the spatial phrase ("who is standing on the left").
CLAUSE_ADVERBS = RELATION_ADVERBS | frozenset({
    "also", "currently", "lying", "laying", "parked", "seated", "situated", "found",
})
# Openers stripped from a find's text: "there is a laptop under the cat".
LEADING_CLAUSE = frozenset({"there", "here", "is", "are", "this", "it", "'s", "’s"})
# Words skipped at the start of an expression when finding its head ("a picture of").
LEADING_FILLERS = LEADING_CLAUSE | frozenset({
    "a", "an", "the", "these", "those", "that", "some", "any", "picture", "photo", "image", "of",
    "showing", "shows", "visible",
})
QUANTITIES = frozenset({
    "one", "two", "three", "four", "five", "six", "both", "other", "another", "several", "few",
    "many", "couple", "pair", "group",
})
# Not heads: numbers, ordinals and "other" say how many or which, not what.
NON_HEADS = QUANTITIES - frozenset({"one", "couple", "pair", "group"}) | frozenset({
    "first", "second", "third", "fourth", "fifth", "last", "1st", "2nd", "3rd", "4th",
})
# -ing nouns that are not verbs ("a building", "the ceiling").
ING_NOUNS = frozenset({
    "building", "ceiling", "thing", "things", "king", "ring", "string", "wing", "painting",
    "clothing", "icing", "topping", "toppings", "stuffing", "awning", "frosting", "siding",
    "railing", "pudding", "dressing", "evening", "morning", "bedding", "sibling", "duckling",
    "seedling", "ping", "wedding", "filling", "sling", "swing", "spring", "sing", "bing",
    "something", "nothing", "anything", "everything", "darling", "ding", "sting", "lightning",
    "landing", "parking", "shilling", "ketchup", "cling", "bowling",
})

# Direction adjectives that may precede a part word ("the upper body of", "left side of").
DIRECTION_WORDS = NOUN_LIKE_DIRECTIONS | frozenset({
    "left", "right", "upper", "lower", "far", "near", "whole", "entire", "other", "very",
})

# "men" is a WordNet noun too; these plurals still lemmatise.
IRREGULAR_PLURALS = frozenset({
    "men", "women", "children", "feet", "geese", "mice", "teeth", "oxen", "sheep", "policemen",
})

# --- real RefCOCOg phrasing (issue 13) ---------------------------------------------------
# "being led by a woman", "is ridden by": before a participle's "by", the agent, not "near".
PASSIVE_MARKERS = frozenset({"being", "been", "get", "gets", "got", "getting"})
# Particles between a participle and its agent: "sat on by a cat", "picked up by".
PASSIVE_PARTICLES = frozenset({"on", "up", "off", "out", "in", "down", "over", "at", "with", "upon"})
# Pronouns that name the referent itself ("a spoon inside of it"): no landmark, no relation.
PRONOUN_LANDMARKS = frozenset({"it", "itself", "them", "themselves", "him", "her", "he", "she", "they"})
# Surfaces and regions a referent lies in ("the right side of the pen", "the middle of the
# table"): after a region word they frame a superlative instead of naming a landmark.
# Frames that are groups ("a row of three elephants"): their members follow with "of".
GROUP_FRAMES = frozenset({"group", "line", "row", "stack", "pile", "bunch", "herd", "crowd"})
FRAME_NOUNS = SCENE_NOUNS | GROUP_FRAMES | frozenset({
    "table", "tables", "plate", "tray", "counter", "desk", "room", "pen", "field", "court",
    "street", "road", "sidewalk", "shelf", "bed", "couch", "sofa", "bench", "board", "pan",
    "platter", "dish", "bowl", "box", "pizza", "floor", "ground", "grass", "water", "sky",
    "fridge", "refrigerator",
    "cabinet", "shelves", "display", "case", "container", "basket", "rack", "lot", "parking",
})
# Centre words: "in center view" is a place, not a viewpoint like "front view".
CENTRE_WORDS = frozenset({"center", "centre", "middle", "mid"})
# Region words after which a frame noun is the referent's area: "the middle of", "the left
# side of", "the far corner of" (not "left of": that is a relation).
FRAME_REGIONS = frozenset({"middle", "center", "centre"}) | DIRECTION_PARTS
# Comparatives read through a registered superlative's comparative relation ("higher than
# the other bear": topmost's comparative, above).
COMPARATIVE_SUPERLATIVES = {"higher": "topmost", "lower": "bottommost"}
# "closer to X than the others": the relation of the plain phrase ("close to": near).
COMPARATIVE_TO = {"closer": "close to", "nearer": "close to"}
# Landmarks that stand for a noun already named ("three others", "a black one"): their head
# is the referent's.
ANAPHORIC_HEADS = frozenset({"other", "others", "one", "ones"})
# Bare position words on "on" that locate the object of a with-phrase ("a plate with a fork
# on top", "chair with a blanket on back"), not the referent.
WITH_OBJECT_POSITIONS = frozenset({"top", "back", "bottom"})
# Faces of an object that "on the ... of X" puts the referent on ("the tank on the back of a
# toilet", "a sticker on the front of the bus"): a part of X, not "behind" / "in front of" it.
SURFACE_PARTS = frozenset({"back", "front"})
# Identifiers after a noun ("bus number 908989"): they end the noun phrase before them.
IDENTIFIER_WORDS = frozenset({"number", "no", "#", "num"})
# Fixed prenominal phrases whose inner word would end the phrase ("a carry on bag").
PRENOMINAL_PHRASES = frozenset({("carry", "on")})
# "in X" is containment only when X is an object: not clothing, colour, body, scene, area or
# event ("a man in a red shirt", "in the snow", "in a baseball game"). The relation word
# itself comes from the registry ("in" -> within); these are the nouns that refuse it.
IN_NOT_CONTAINERS = frozenset({
    "shirt", "shirts", "tshirt", "tee", "top", "tops", "jacket", "jackets", "coat", "coats",
    "dress", "dresses", "suit", "suits", "uniform", "uniforms", "sweater", "sweatshirt", "hoodie",
    "blouse", "vest", "jersey", "jerseys", "pants", "jeans", "shorts", "skirt", "hat", "hats",
    "cap", "helmet", "glasses", "sunglasses", "goggles", "shoes", "boots", "outfit", "outfits",
    "clothes", "clothing", "gear", "costume", "apron", "robe", "scarf", "tie", "gown", "bikini",
    "swimsuit", "wetsuit", "tuxedo", "tux", "overalls", "trousers", "sleeves", "jumpsuit",
    "pajamas", "attire", "stripes", "print", "pattern", "color", "colors", "colour", "shade",
    "shades", "snow", "grass", "water", "field", "air", "sky", "background", "foreground",
    "distance", "street", "road", "sidewalk", "crosswalk", "doorway", "garden", "park", "yard",
    "room", "kitchen", "bathroom", "ground", "dirt", "sand", "ocean", "sea", "lake", "river",
    "pool", "forest", "woods", "zoo", "enclosure", "pen", "area", "corner", "line", "row",
    "group", "crowd", "game", "match", "race", "picture", "photo", "image", "frame", "scene",
    "shot", "view", "sun", "shadow", "shadows", "light", "rain", "dark", "motion", "action",
    "focus", "hand", "hands", "mouth", "paw", "paws", "arm", "arms", "lap", "brush", "bushes",
    "compartment", "position", "spot", "place", "way", "middle", "center", "front",
    "back", "rear", "side", "half", "pic", "photograph", "mud", "wave", "waves", "surf", "city",
    "town", "station", "store", "shop", "market", "restaurant", "hallway", "stadium", "court",
})
# Containment relation phrases ("in X" after a landmark locates that landmark).
CONTAINMENT_WORDS = frozenset({"in", "inside", "inside of", "within"})
# Words before "in" that put it inside another object's phrase ("plant with a rose in a pot",
# "holding a racket in the air"): the place is that object's.
IN_CLAUSE_OPENERS = frozenset({"with", "holding", "has", "having", "carrying", "wearing", "w/", "holds"})
# Nouns with no singular in use: the head keeps its form ("scissors", not "scissor").
PLURAL_ONLY_NOUNS = frozenset({
    "scissors", "pants", "jeans", "shorts", "glasses", "sunglasses", "trousers", "tongs", "pliers",
    "binoculars", "goggles", "clothes", "overalls",
})
# A picture of X is X, whatever describes the picture ("blur image of the boy").
PICTURE_PARTS = frozenset({"image", "photo", "picture", "photograph", "shot", "view", "pic", "closeup"})
# Picture words that open an expression as filler only before "of" ("picture of a dog"); alone
# they are the referent ("the picture on the bottom left").
PICTURE_FILLERS = frozenset({"picture", "photo", "image"})
# Words before a landmark's determiner that say how much of it ("all the other bowls").
PREDETERMINERS = frozenset({"all", "both", "each"})

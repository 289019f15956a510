"""Table-driven compiler tests: RefCOCO-style expressions and the program text they compile to.

Each row is (expression, expected). An expected text starting with ``find(`` is the whole
program (no spatial structure: a bare find of the whole expression, with its head). Any
other expected text is the structure, and the program is then
``and(find(<whole expression>), <structure>)``.

Conventions pinned here (see grammar/expression/): relations apply innermost, then
superlatives with the vertical word innermost ("top left" = leftmost of topmost), then an
ordinal outermost; "last ... from the left" is the first from the right; an ordinal
without a direction counts from the left; "in the back" reads as topmost and "in front"
as bottommost (ReCLIP's readings of back/front); a referent with no noun is
find("object", head="object"); without a trained parser, every spatial phrase attaches
to the referent, except one after a relative clause ("... the square that is left of X"),
which attaches to the noun phrase just before the clause.
"""

from __future__ import annotations

import json

import pytest

from grammar import And, Find, Program, compile_expression, parse_program

CASES = [
    ('man on the left',
     'superlative(leftmost, find("man", head="man"))'),
    ('the man on the left in a red shirt',
     'superlative(leftmost, find("man in a red shirt", head="man"))'),
    ('left guy',
     'superlative(leftmost, find("guy", head="guy"))'),
    ('far right zebra',
     'superlative(rightmost, find("zebra", head="zebra"))'),
    ('guy on far right',
     'superlative(rightmost, find("guy", head="guy"))'),
    ('man on left with blue shirt',
     'superlative(leftmost, find("man with blue shirt", head="man"))'),
    ('the woman on the right holding an umbrella',
     'superlative(rightmost, find("woman holding an umbrella", head="woman"))'),
    ('zebra in the middle',
     'superlative(middle, find("zebra", head="zebra"))'),
    ('the center donut',
     'superlative(middle, find("donut", head="donut"))'),
    ('middle giraffe',
     'superlative(middle, find("giraffe", head="giraffe"))'),
    ('elephant at the top',
     'superlative(topmost, find("elephant", head="elephant"))'),
    ('the bottom sandwich',
     'superlative(bottommost, find("sandwich", head="sandwich"))'),
    ('the top bowl',
     'superlative(topmost, find("bowl", head="bowl"))'),
    ('pizza at the bottom of the picture',
     'superlative(bottommost, find("pizza", head="pizza"))'),
    ('top left donut',
     'superlative(leftmost, superlative(topmost, find("donut", head="donut")))'),
    ('donut in the top right corner',
     'superlative(rightmost, superlative(topmost, find("donut", head="donut")))'),
    ('upper right corner cake',
     'superlative(rightmost, superlative(topmost, find("cake", head="cake")))'),
    ('lower left bowl',
     'superlative(leftmost, superlative(bottommost, find("bowl", head="bowl")))'),
    ('the bottom right sandwich',
     'superlative(rightmost, superlative(bottommost, find("sandwich", head="sandwich")))'),
    ('bottom left corner chair',
     'superlative(leftmost, superlative(bottommost, find("chair", head="chair")))'),
    ('the man at the top left of the picture',
     'superlative(leftmost, superlative(topmost, find("man", head="man")))'),
    ('the biggest elephant',
     'superlative(largest, find("elephant", head="elephant"))'),
    ('smallest bear',
     'superlative(smallest, find("bear", head="bear"))'),
    ('the big elephant on the right',
     'superlative(rightmost, superlative(largest, find("elephant", head="elephant")))'),
    ('the closest girl',
     'superlative(closest, find("girl", head="girl"))'),
    ('the elephant closest to the camera',
     'superlative(closest, find("elephant", head="elephant"))'),
    ('the zebra furthest from the camera',
     'superlative(farthest, find("zebra", head="zebra"))'),
    ('the farthest boat',
     'superlative(farthest, find("boat", head="boat"))'),
    ('right most man',
     'superlative(rightmost, find("man", head="man"))'),
    ('the leftmost giraffe',
     'superlative(leftmost, find("giraffe", head="giraffe"))'),
    ('second cup from the left',
     'ordinal(2, leftmost, find("cup", head="cup"))'),
    ('2nd from right',
     'ordinal(2, rightmost, find("object", head="object"))'),
    ('the third car from the right',
     'ordinal(3, rightmost, find("car", head="car"))'),
    ('second from the top',
     'ordinal(2, topmost, find("object", head="object"))'),
    ('the second man from the left in a white shirt',
     'ordinal(2, leftmost, find("man in a white shirt", head="man"))'),
    ('the last cup on the right',
     'ordinal(1, rightmost, find("cup", head="cup"))'),
    ('last bike from the left',
     'ordinal(1, rightmost, find("bike", head="bike"))'),
    ('the second to last chair from the left',
     'ordinal(2, rightmost, find("chair", head="chair"))'),
    ('first horse from the left',
     'ordinal(1, leftmost, find("horse", head="horse"))'),
    ('the second cup',
     'ordinal(2, leftmost, find("cup", head="cup"))'),
    ('left of the plate',
     'relate(find("object", head="object"), left_of, find("plate", head="plate"))'),
    ('the cup left of the plate',
     'relate(find("cup", head="cup"), left_of, find("plate", head="plate"))'),
    ('the cup to the left of the plate',
     'relate(find("cup", head="cup"), left_of, find("plate", head="plate"))'),
    ('the dog on the left of the car',
     'relate(find("dog", head="dog"), left_of, find("car", head="car"))'),
    ('the man to the right of the woman in red',
     'relate(find("man", head="man"), right_of, find("woman in red", head="woman"))'),
    ('the lamp right of the bed',
     'relate(find("lamp", head="lamp"), right_of, find("bed", head="bed"))'),
    ('a cat above the tv',
     'relate(find("cat", head="cat"), above, find("tv", head="tv"))'),
    ('the clock over the door',
     'relate(find("clock", head="clock"), above, find("door", head="door"))'),
    ('a bag below the table',
     'relate(find("bag", head="bag"), below, find("table", head="table"))'),
    ('the shoes under the bed',
     'relate(find("shoes", head="shoe"), below, find("bed", head="bed"))'),
    ('the bigger elephant',
     'superlative(largest, find("elephant", head="elephant"))'),
    ('a dog bigger than the cat',
     'relate(find("dog", head="dog"), bigger_than, find("cat", head="cat"))'),
    ('a giraffe smaller than the other giraffe',
     'relate(find("giraffe", head="giraffe"), smaller_than, find("other giraffe", head="giraffe"))'),
    ('the cat inside the box',
     'relate(find("cat", head="cat"), within, find("box", head="box"))'),
    ('the suitcase within the trunk',
     'relate(find("suitcase", head="suitcase"), within, find("trunk", head="trunk"))'),
    ('the chair next to the table',
     'relate(find("chair", head="chair"), near, find("table", head="table"))'),
    ('the man beside the horse',
     'relate(find("man", head="man"), near, find("horse", head="horse"))'),
    ('a man near the bus',
     'relate(find("man", head="man"), near, find("bus", head="bus"))'),
    ('a dog by the door',
     'relate(find("dog", head="dog"), near, find("door", head="door"))'),
    ('man right next to the woman',
     'relate(find("man", head="man"), near, find("woman", head="woman"))'),
    ('the bike in front of the bus',
     'relate(find("bike", head="bike"), below, find("bus", head="bus"))'),
    ('the car behind the truck',
     'relate(find("car", head="car"), above, find("truck", head="truck"))'),
    ('the cup on top of the plate',
     'relate(find("cup", head="cup"), above, find("plate", head="plate"))'),
    ('the vase on top of the table on the left',
     'superlative(leftmost, relate(find("vase", head="vase"), above, find("table", head="table")))'),
    ('between the two cars',
     'relate(find("object", head="object"), between, find("car", head="car"), find("car", head="car"))'),
    ('between the car and the tree',
     'relate(find("object", head="object"), between, find("car", head="car"), find("tree", head="tree"))'),
    ('the dog between two men',
     'relate(find("dog", head="dog"), between, find("man", head="man"), find("man", head="man"))'),
    ('a lady in the middle in between two boys',
     'superlative(middle, relate(find("lady", head="lady"), between, find("boy", head="boy"), find("boy", head="boy")))'),
    ('a giraffe standing between giraffes',
     'relate(find("giraffe standing", head="giraffe"), between, find("giraffe", head="giraffe"), find("giraffe", head="giraffe"))'),
    ('the chair in between the table and the couch',
     'relate(find("chair", head="chair"), between, find("table", head="table"), find("couch", head="couch"))'),
    ('the back of a blue truck',
     'find("the back of a blue truck", head="truck")'),
    ('the top of the cake',
     'find("the top of the cake", head="cake")'),
    ('a slice of pizza',
     'find("a slice of pizza", head="pizza")'),
    ('the left half of the sandwich',
     'find("the left half of the sandwich", head="sandwich")'),
    ('the right side of the bus',
     'find("the right side of the bus", head="bus")'),
    ('one of the men on the left',
     'superlative(leftmost, find("one of the men", head="man"))'),
    ('the arm of the man next to the car',
     'relate(find("arm of the man", head="man"), near, find("car", head="car"))'),
    ('the dog near the cars',
     'relate(find("dog", head="dog"), near, find("cars", head="car"))'),
    ('a bowl next to the bananas',
     'relate(find("bowl", head="bowl"), near, find("bananas", head="banana"))'),
    ('the girl between the two women on the left',
     'superlative(leftmost, relate(find("girl", head="girl"), between, find("woman", head="woman"), find("woman", head="woman")))'),
    ('the man closest to the cars',
     'relate(find("man", head="man"), near, find("cars", head="car"))'),
    ('a man holding an umbrella',
     'find("a man holding an umbrella", head="man")'),
    ('a woman in a red top',
     'find("a woman in a red top", head="woman")'),
    ('a person with a red bag',
     'find("a person with a red bag", head="person")'),
    ('a man wearing a hat',
     'find("a man wearing a hat", head="man")'),
    ('black and white cat sleeping',
     'find("black and white cat sleeping", head="cat")'),
    ('her right hand',
     'find("her right hand", head="hand")'),
    ('zebra facing left',
     'find("zebra facing left", head="zebra")'),
    ('a brown dog with his back to the camera',
     'find("a brown dog with his back to the camera", head="dog")'),
    ('a little girl in a pink dress',
     'find("a little girl in a pink dress", head="girl")'),
    ('the pizza',
     'find("the pizza", head="pizza")'),
    ('there is a laptop under the cat',
     'relate(find("laptop", head="laptop"), below, find("cat", head="cat"))'),
    ('inside wall of the white bathtub',
     'find("inside wall of the white bathtub", head="wall")'),
    ('the man in the middle of the picture',
     'superlative(middle, find("man", head="man"))'),
    ('the bananas in the center of the plate',
     'relate(find("bananas", head="banana"), within, find("plate", head="plate"))'),
    ('the right one',
     'superlative(rightmost, find("one", head="one"))'),
    ('the left most chair',
     'superlative(leftmost, find("chair", head="chair"))'),
    ('the one on the left of the two',
     'superlative(leftmost, find("one", head="one"))'),
    ('elephant on right side',
     'superlative(rightmost, find("elephant", head="elephant"))'),
    ('the white car on the far left side of the picture',
     'superlative(leftmost, find("white car", head="car"))'),
    ('woman in black on the left',
     'superlative(leftmost, find("woman in black", head="woman"))'),
    ('the giraffe on the left facing right',
     'superlative(leftmost, find("giraffe facing right", head="giraffe"))'),
    ('man over on the left',
     'superlative(leftmost, find("man over", head="man"))'),
    ('to the left of the car',
     'relate(find("object", head="object"), left_of, find("car", head="car"))'),
    ('the dog to the right of the cars',
     'relate(find("dog", head="dog"), right_of, find("cars", head="car"))'),
    ('the man in the back',
     'superlative(topmost, find("man", head="man"))'),
    ('the car in front',
     'superlative(bottommost, find("car", head="car"))'),
    ('2nd from the bottom',
     'ordinal(2, bottommost, find("object", head="object"))'),
    ('the man on the right next to the woman',
     'superlative(rightmost, relate(find("man", head="man"), near, find("woman", head="woman")))'),
    ('a big clock on the wall',
     'superlative(largest, find("clock on the wall", head="clock"))'),
    ('the bigger of the two dogs',
     'superlative(largest, find("dogs", head="dog"))'),
    ('a monitor to the left of another monitor',
     'relate(find("monitor", head="monitor"), left_of, find("monitor", head="monitor"))'),
    ('the piece of broccoli that is right in the center',
     'superlative(middle, find("piece of broccoli", head="broccoli"))'),
    ('small elephant trailing big elephant',
     'superlative(smallest, find("elephant trailing big elephant", head="elephant"))'),
    ('the left of the two men',
     'superlative(leftmost, find("men", head="man"))'),
    ('the giraffe on the right standing tall',
     'superlative(rightmost, find("giraffe standing tall", head="giraffe"))'),
    ('a partially eaten sandwich half to the right of an uneaten sandwich half',
     'relate(find("partially eaten sandwich half", head="sandwich"), right_of, find("uneaten sandwich half", head="sandwich"))'),
    ('woman wearing a top',
     'find("woman wearing a top", head="woman")'),
    ('the front man',
     'superlative(bottommost, find("man", head="man"))'),
    ('the guy in back',
     'superlative(topmost, find("guy", head="guy"))'),
    ('man on top',
     'superlative(topmost, find("man", head="man"))'),
    ('a man with a top hat',
     'find("a man with a top hat", head="man")'),
    ('skis being used by a woman',
     'find("skis being used by a woman", head="ski")'),
    ('the middle of three trains',
     'superlative(middle, find("trains", head="train"))'),
    ('a classic plymouth with a bike sitting in front of it',
     'relate(find("classic plymouth with a bike", head="plymouth"), below, find("it", head="it"))'),
    ('the top bowl',
     'superlative(topmost, find("bowl", head="bowl"))'),
    ('the man by the car',
     'relate(find("man", head="man"), near, find("car", head="car"))'),
    ('zebra in middle',
     'superlative(middle, find("zebra", head="zebra"))'),
    ('second from the left',
     'ordinal(2, leftmost, find("object", head="object"))'),
    ('right hand of a person holding a spoon',
     'find("right hand of a person holding a spoon", head="person")'),
    ('two baby bears',
     'find("two baby bears", head="bear")'),
    ('elephant on the right hand side',
     'superlative(rightmost, find("elephant", head="elephant"))'),
    ('a short man stands next to a taller man',
     'relate(find("short man stands", head="man"), near, find("taller man", head="man"))'),
    ('the uneaten slice of pizza',
     'find("the uneaten slice of pizza", head="pizza")'),
    ('the cake in the middle of the table',
     'relate(find("cake", head="cake"), within, find("table", head="table"))'),
    ('a banana in between two other bananas , wearing a pair of eyeglasses',
     'relate(find("banana", head="banana"), between, find("banana", head="banana"), find("banana", head="banana"))'),
    ('the giraffe in the middle of the other giraffes',
     'relate(find("giraffe", head="giraffe"), between, find("giraffe", head="giraffe"), find("giraffe", head="giraffe"))'),
    # relative clauses: the spatial phrase after "that is"/"which is"/"who is" describes the
    # noun phrase just before the clause, and the clause opener is not find text
    ('the circle over the red square that is to the right of the green circle',
     'relate(find("circle", head="circle"), above, relate(find("red square", head="square"), right_of, find("green circle", head="circle")))'),
    ('the man next to the woman who is on the left',
     'relate(find("man", head="man"), near, superlative(leftmost, find("woman", head="woman")))'),
    ('the man next to the woman who is standing on the left',
     'relate(find("man", head="man"), near, superlative(leftmost, find("woman", head="woman")))'),
    ('the cup next to the plate which is leftmost',
     'relate(find("cup", head="cup"), near, superlative(leftmost, find("plate", head="plate")))'),
    ('the cup next to the plate that is second from the left',
     'relate(find("cup", head="cup"), near, ordinal(2, leftmost, find("plate", head="plate")))'),
    ('the cup next to the plates that are left of the bowl',
     'relate(find("cup", head="cup"), near, relate(find("plates", head="plate"), left_of, find("bowl", head="bowl")))'),
    ("the lamp above the chair that's next to the table",
     'relate(find("lamp", head="lamp"), above, relate(find("chair", head="chair"), near, find("table", head="table")))'),
    ('the star above the circle that is below the square which is left of the triangle',
     'relate(find("star", head="star"), above, relate(find("circle", head="circle"), below, relate(find("square", head="square"), left_of, find("triangle", head="triangle"))))'),
    ('the dog left of the people who are in the middle',
     'relate(find("dog", head="dog"), left_of, superlative(middle, find("people", head="people")))'),
    # a clause on the referent itself: same attachment as before, the opener leaves the text
    ('the square that is left of the circle',
     'relate(find("square", head="square"), left_of, find("circle", head="circle"))'),
    ('the dog that is on the left',
     'superlative(leftmost, find("dog", head="dog"))'),
    ('the cup on the left that is next to the plate',
     'superlative(leftmost, relate(find("cup", head="cup"), near, find("plate", head="plate")))'),
    # without a relative pronoun every spatial phrase still attaches to the referent
    ('the cup left of the plate near the window',
     'relate(relate(find("cup", head="cup"), left_of, find("plate", head="plate")), near, find("window", head="window"))'),
    # a clause that is not spatial keeps its words for CLIP
    ('the dog that is brown',
     'find("the dog that is brown", head="dog")'),
    # a relation word that is also a direction ("above", "below"), then a determiner and a
    # direction: a relation to a superlative landmark, not a compound direction
    ('the triangle above the leftmost purple star',
     'relate(find("triangle", head="triangle"), above, superlative(leftmost, find("purple star", head="star")))'),
    ('the yellow square above the top triangle',
     'relate(find("yellow square", head="square"), above, superlative(topmost, find("triangle", head="triangle")))'),
    ('the red triangle above the lowest purple star',
     'relate(find("red triangle", head="triangle"), above, superlative(bottommost, find("purple star", head="star")))'),
    ('the circle below the rightmost square',
     'relate(find("circle", head="circle"), below, superlative(rightmost, find("square", head="square")))'),
    ('the box underneath the far left table',
     'relate(find("box", head="box"), below, superlative(leftmost, find("table", head="table")))'),
    ('the square left of the top circle',
     'relate(find("square", head="square"), left_of, superlative(topmost, find("circle", head="circle")))'),
    ('the cat next to the biggest dog',
     'relate(find("cat", head="cat"), near, superlative(largest, find("dog", head="dog")))'),
    ('the man behind the leftmost woman',
     'relate(find("man", head="man"), above, superlative(leftmost, find("woman", head="woman")))'),
    ('the star under the bottom red triangle',
     'relate(find("star", head="star"), below, superlative(bottommost, find("red triangle", head="triangle")))'),
    # "from the ..." after an ordinal landmark says where that ordinal counts from
    ('the star right of the second star from the left',
     'relate(find("star", head="star"), right_of, ordinal(2, leftmost, find("star", head="star")))'),
    ('the circle below the second triangle from the right',
     'relate(find("circle", head="circle"), below, ordinal(2, rightmost, find("triangle", head="triangle")))'),
    ('the second circle below the third star from the right',
     'ordinal(2, leftmost, relate(find("circle", head="circle"), below, ordinal(3, rightmost, find("star", head="star"))))'),
    # ...but a referent's own ordinal still takes it when the landmark has none
    ('the second star right of the circle from the left',
     'ordinal(2, leftmost, relate(find("star", head="star"), right_of, find("circle", head="circle")))'),
    # adjacent directions after "above" remain one compound direction
    ('the cup above left',
     'superlative(leftmost, superlative(topmost, find("cup", head="cup")))'),
]


def expected_program(expression: str, expected: str) -> str:
    if expected.startswith("find("):
        return expected
    return f"and(find({json.dumps(' '.join(expression.split()), ensure_ascii=False)}), {expected})"


def test_table_is_large_and_covers_every_form():
    assert len(CASES) >= 80
    text = " ".join(e for _, e in CASES)
    for name in ("left_of", "right_of", "above", "below", "bigger_than", "smaller_than", "within",
                 "near", "between", "leftmost", "rightmost", "topmost", "bottommost", "largest",
                 "smallest", "closest", "farthest", "middle", "ordinal("):
        assert name in text, name


@pytest.mark.parametrize("expression, expected", CASES, ids=[c[0][:40] for c in CASES])
def test_expression_compiles_to(expression, expected):
    program = compile_expression(expression)
    assert str(program) == expected_program(expression, expected)
    assert program.source == expression
    assert parse_program(str(program)) == program
    # every find of the referent carries its head
    assert program.target.head


@pytest.mark.parametrize("expression, expected", [c for c in CASES if c[1].startswith("find(")][:5])
def test_unstructured_expressions_say_so(expression, expected):
    program = compile_expression(expression)
    assert not program.structured
    assert any("no spatial structure found" in note for note in program.notes)


def test_root_is_and_of_whole_expression_and_structure():
    program = compile_expression("the man on the left in a red shirt")
    assert isinstance(program.root, And)
    assert program.root.args[0] == Find("the man on the left in a red shirt")
    assert program.structured and program.notes == ()
    assert program.target == Find("man in a red shirt", head="man")
    assert isinstance(program, Program)


def test_modifiers_after_a_place_stay_with_the_target():
    assert compile_expression("man on left with blue shirt").target.text == "man with blue shirt"


def test_part_words_lead_to_the_owner():
    assert compile_expression("the back of a blue truck").target.head == "truck"
    assert compile_expression("gray pants of person standing to the back left").target.head == "person"

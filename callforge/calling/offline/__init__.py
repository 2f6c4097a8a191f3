"""The offline parameter model (provider "offline"): what a model would know about parameters,
as seeded procedures. The apis stage asks it for a parameter's JSON Schema, the dialogs stage for
values that fit a schema; both read parameter names through the same rule tables.

    names            tokens, singular and human forms of a name; ordered first-match name rules
    words            word lists that realistic values are drawn from
    schemas          a parameter name -> its kind -> a typed JSON Schema (and the constraints that suit it)
    meanings         a parameter name -> what its value is (word lists and generators, by ordered rules)
    values           a JSON Schema (and the name it sits under) -> a realistic value that fits it
    pattern_strings  a string that matches a regular expression (a schema's `pattern`)
"""

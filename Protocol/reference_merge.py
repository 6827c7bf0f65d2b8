#!/usr/bin/env python3
"""Independent reference checker for the CaseSync merge vectors.

Written from Protocol/PROTOCOL.md alone (sections 1-5 and 7) and the field list in
Sources/SyncModel/Schema/RecordSchema.swift; it shares no code with the Swift
implementation. Standard library only.

    python3 Protocol/reference_merge.py [VECTOR.json ...]

For every vector in Protocol/vectors (or the files given) it:
  * decodes and validates every input (partial validity: required fields may be missing);
  * for merge vectors, folds merge() over every permutation of the inputs, and over every
    permutation of the inputs with one of them repeated, plus right folds, and checks the
    canonical bytes equal canonical(expected) and the conflicts equal `conflicts`;
  * checks the inputs describe one consistent history (no dot with two different
    contents, a tombstone's `seen` names its own dot exactly, one write = one time);
  * for error vectors, checks that decoding some input fails with the stated code.
Exits non-zero when any vector fails.
"""

import calendar
import itertools
import json
import os
import re
import sys

MAX_COUNTER = 2 ** 53 - 1


class ProtocolError(Exception):
    def __init__(self, code, message):
        super().__init__(f"{code}: {message}")
        self.code = code


# --------------------------------------------------------------------------- JSON reading

class Obj(dict):
    """A JSON object that remembers whether a key was repeated."""
    repeated = None


def _pairs(pairs):
    obj = Obj()
    for key, value in pairs:
        if key in obj and obj.repeated is None:
            obj.repeated = key
        obj[key] = value
    return obj


def _bad_constant(name):
    raise ValueError(f"{name} is not JSON")


def parse_json(text):
    """Parses text; repeated keys are remembered (Obj.repeated), not lost silently."""
    return json.loads(text, object_pairs_hook=_pairs, parse_constant=_bad_constant)


# --------------------------------------------------------------------------- schema
# Field names, kinds and value types as declared in RecordSchema.swift (data only).

STAGES = ["intake", "preparation", "opening", "exploration", "negotiation", "agreement",
          "follow-up", "closed", "withdrawn"]
SHORT = ("text", 1000, False)
LONG = ("text", 100000, True)
CASE_LINK = ("register", ("reference", "case"))

SCHEMA = {
    "case": {
        "reference": ("register", SHORT), "title": ("register", SHORT),
        "kind": ("register", ("choice", ["clinical-dispute", "malpractice", "workplace-conduct",
                                         "family-clinician", "other"])),
        "site": ("register", SHORT), "status": ("register", ("choice", STAGES)),
        "confidentiality": ("register", ("choice", ["standard", "restricted"])),
        "mediators": ("set", ("username",)),
        "opened": ("register", ("date",)), "agreed": ("register", ("date",)),
        "closed": ("register", ("date",)), "stageEntered": ("register", ("date",)),
        "objectives": ("register", LONG), "successCriteria": ("register", LONG),
        "outcome": ("register", LONG), "conflictOfInterest": ("register", LONG),
    },
    "party": {
        "case": CASE_LINK,
        "role": ("register", ("choice", ["patient", "family", "clinician", "practitioner",
                                         "institution", "representative", "other"])),
        "name": ("register", SHORT), "organization": ("register", SHORT),
        "contact": ("register", LONG),
        "consentToMediate": ("register", ("boolean",)), "consentToShare": ("register", ("boolean",)),
    },
    "session": {
        "case": CASE_LINK, "at": ("register", ("timestamp",)),
        "kind": ("register", ("choice", ["joint", "caucus", "private"])),
        "location": ("register", SHORT), "attendees": ("set", SHORT),
        "summary": ("register", LONG),
    },
    "note": {
        "case": CASE_LINK, "session": ("register", ("reference", "session")),
        "author": ("register", SHORT),
        "visibility": ("register", ("choice", ["shared", "mediator", "caucus"])),
        "text": ("register", LONG),
    },
    "action": {
        "case": CASE_LINK, "text": ("register", LONG), "owner": ("register", SHORT),
        "due": ("register", ("date",)), "measure": ("register", LONG),
        "status": ("register", ("choice", ["open", "in-progress", "met", "missed", "waived",
                                           "escalated"])),
        "reviewed": ("register", ("date",)), "completed": ("register", ("date",)),
        "reviews": ("set", SHORT), "replacedBy": ("register", ("reference", "action")),
    },
    "feedback": {
        "case": CASE_LINK, "party": ("register", ("reference", "party")),
        "rating": ("register", ("integer", 1, 5)), "comments": ("register", LONG),
        "submitted": ("register", ("date",)),
    },
}

UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
DEVICE_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
USER_RE = re.compile(r"^[a-z0-9._-]{1,64}$")
DATE_RE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
TIMESTAMP_RE = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-]\d{2}:\d{2})$")


def _valid_day(y, m, d):
    return 1900 <= y <= 9999 and 1 <= m <= 12 and 1 <= d <= calendar.monthrange(y, m)[1]


def check_value(name, vtype, value):
    """Checks one register value or set element against its value type."""
    kind = vtype[0]
    if kind == "boolean":
        if not isinstance(value, bool):
            raise ProtocolError("wrong_value_type", f"{name} must be true or false")
        return
    if kind == "integer":
        if isinstance(value, bool) or not isinstance(value, int):
            raise ProtocolError("wrong_value_type", f"{name} must be a whole number")
        if not vtype[1] <= value <= vtype[2]:
            raise ProtocolError("invalid_value", f"{name} out of range")
        return
    if not isinstance(value, str):
        raise ProtocolError("wrong_value_type", f"{name} must be a string")
    if kind == "text":
        _, max_bytes, multiline = vtype
        if value == "" or len(value.encode("utf-8")) > max_bytes:
            raise ProtocolError("invalid_value", f"{name} empty or too long")
        for ch in value:
            if ord(ch) < 0x20 or ord(ch) == 0x7F:
                if multiline and ch in "\n\r\t":
                    continue
                raise ProtocolError("invalid_value", f"{name} has a control character")
    elif kind == "choice":
        if value not in vtype[1]:
            raise ProtocolError("invalid_value", f"{name} {value!r} not allowed")
    elif kind == "date":
        m = DATE_RE.match(value)
        if not m or not _valid_day(*map(int, m.groups())):
            raise ProtocolError("invalid_value", f"{name} {value!r} is not a date")
    elif kind == "timestamp":
        m = TIMESTAMP_RE.match(value)
        if not m:
            raise ProtocolError("invalid_value", f"{name} {value!r} is not a timestamp")
        y, mo, d, h, mi, s = map(int, m.groups()[:6])
        if not _valid_day(y, mo, d) or h > 23 or mi > 59 or s > 60:
            raise ProtocolError("invalid_value", f"{name} {value!r} is not a timestamp")
    elif kind == "reference":
        if not UUID_RE.match(value):
            raise ProtocolError("invalid_value", f"{name} {value!r} is not a record id")
    elif kind == "username":
        if not USER_RE.match(value):
            raise ProtocolError("invalid_value", f"{name} {value!r} is not a user name")
    else:  # pragma: no cover
        raise AssertionError(kind)


# --------------------------------------------------------------------------- decoding

def _is_int(x):
    return isinstance(x, int) and not isinstance(x, bool)


def _no_repeats(node):
    """Rule 7: no repeated keys anywhere (this also covers repeated devices in a vector)."""
    if isinstance(node, Obj):
        if node.repeated is not None:
            raise ProtocolError("malformed_json", f"repeated key {node.repeated!r}")
        for v in node.values():
            _no_repeats(v)
    elif isinstance(node, list):
        for v in node:
            _no_repeats(v)
    elif isinstance(node, str):
        if any(0xD800 <= ord(c) <= 0xDFFF for c in node):
            raise ProtocolError("malformed_json", "lone surrogate in a string")


def _obj(x, what, required, optional=()):
    if not isinstance(x, dict):
        raise ProtocolError("malformed_json", f"{what} must be an object")
    for k in x:
        if k not in required and k not in optional:
            raise ProtocolError("malformed_json", f"unknown key {k!r} in {what}")
    for k in required:
        if k not in x:
            raise ProtocolError("malformed_json", f"{what} lacks {k!r}")


def _counter(n, what):
    if not _is_int(n):
        raise ProtocolError("malformed_json", f"{what} must be an integer")
    if not 1 <= n <= MAX_COUNTER:
        raise ProtocolError("invalid_counter", f"{what} {n} is outside 1...2^53-1")
    return n


def _device(d, what):
    if not isinstance(d, str) or not DEVICE_RE.match(d):
        raise ProtocolError("malformed_json", f"{what}: bad device id {d!r}")
    return d


def _vector(x, what):
    if not isinstance(x, dict):
        raise ProtocolError("malformed_json", f"{what} must be an object")
    return {_device(d, what): _counter(n, f"{what}[{d}]") for d, n in x.items()}


def _dot(x, what):
    if not isinstance(x, list) or len(x) != 2:
        raise ProtocolError("malformed_json", f"{what} dot must be [device, counter]")
    return (_device(x[0], what), _counter(x[1], f"{what} counter"))


def _time(t, what):
    if not _is_int(t):
        raise ProtocolError("malformed_json", f"{what} time must be an integer")
    if t < 0:
        # PROTOCOL.md rule 2 gives no code for a negative time; see the report.
        raise ProtocolError("invalid_value", f"{what} time is negative")
    return t


def seen_by(vv, dot):
    return dot[1] <= vv.get(dot[0], 0)


def decode_state(raw):
    """JSON value -> internal state, or ProtocolError. Partial validity (no missing_field)."""
    _no_repeats(raw)
    _obj(raw, "record", ("id", "type", "vv"), ("deleted", "fields"))
    rtype = raw["type"]
    if not isinstance(rtype, str):
        raise ProtocolError("malformed_json", "type must be a string")
    if rtype not in SCHEMA:
        raise ProtocolError("unknown_type", f"unknown record type {rtype!r}")
    if not isinstance(raw["id"], str) or not UUID_RE.match(raw["id"]):
        # No code is named for a bad record id; see the report.
        raise ProtocolError("invalid_value", f"bad record id {raw['id']!r}")
    vv = _vector(raw["vv"], "vv")
    schema = SCHEMA[rtype]
    fields = {}
    raw_fields = raw.get("fields", {})
    if not isinstance(raw_fields, dict):
        raise ProtocolError("malformed_json", "fields must be an object")
    for name, fstate in raw_fields.items():
        if name not in schema:
            raise ProtocolError("unknown_field", f"{rtype} has no field {name!r}")
        kind, vtype = schema[name]
        if kind == "register":
            if not isinstance(fstate, list):
                raise ProtocolError("wrong_field_kind", f"{name} is a register (array)")
            if not fstate:
                raise ProtocolError("malformed_json", f"register {name} is empty")  # rule 6: no code named
            entries = {}
            for e in fstate:
                _obj(e, f"{name} entry", ("at", "dot", "value"))
                dot = _dot(e["dot"], name)
                _time(e["at"], name)
                if not seen_by(vv, dot):
                    raise ProtocolError("dot_above_version", f"{name} dot {dot} not seen by vv")
                if dot in entries:
                    raise ProtocolError("duplicate_dot", f"{name} holds dot {dot} twice")
                check_value(name, vtype, e["value"])
                entries[dot] = {"at": e["at"], "dot": list(dot), "value": e["value"]}
            fields[name] = ("register", entries)
        else:
            if not isinstance(fstate, dict):
                raise ProtocolError("wrong_field_kind", f"{name} is a set (object)")
            elements = {}
            for elem, stamps in fstate.items():
                check_value(name, vtype, elem)
                if not isinstance(stamps, list):
                    raise ProtocolError("malformed_json", f"{name}[{elem}] must be an array")
                if not stamps:
                    raise ProtocolError("malformed_json", f"{name}[{elem}] has no stamps")  # rule 6
                got = {}
                for s in stamps:
                    _obj(s, f"{name} stamp", ("at", "dot"))
                    dot = _dot(s["dot"], name)
                    _time(s["at"], name)
                    if not seen_by(vv, dot):
                        raise ProtocolError("dot_above_version", f"{name} dot {dot} not seen by vv")
                    if dot in got:
                        raise ProtocolError("duplicate_dot", f"{name}[{elem}] holds dot {dot} twice")
                    got[dot] = {"at": s["at"], "dot": list(dot)}
                elements[elem] = got
            fields[name] = ("set", elements)
    tombs = {}
    raw_deleted = raw.get("deleted", [])
    if not isinstance(raw_deleted, list):
        raise ProtocolError("malformed_json", "deleted must be an array")
    for t in raw_deleted:
        _obj(t, "tombstone", ("at", "dot", "seen", "value"))
        dot = _dot(t["dot"], "deleted")
        _time(t["at"], "deleted")
        seen = _vector(t["seen"], "seen")
        if not isinstance(t["value"], bool):
            raise ProtocolError("wrong_value_type", "tombstone value must be true or false")
        if not seen_by(vv, dot):
            raise ProtocolError("dot_above_version", f"tombstone dot {dot} not seen by vv")
        if not seen_by(seen, dot):
            raise ProtocolError("dot_above_version", f"tombstone seen lacks its own dot {dot}")
        for d, n in seen.items():
            if not seen_by(vv, (d, n)):
                raise ProtocolError("dot_above_version", f"tombstone seen {d}:{n} above vv")
        if dot in tombs:
            raise ProtocolError("duplicate_dot", f"tombstone dot {dot} twice")
        tombs[dot] = {"at": t["at"], "dot": list(dot), "seen": seen, "value": t["value"]}
    return {"type": rtype, "id": raw["id"], "vv": vv, "fields": fields, "deleted": tombs}


# --------------------------------------------------------------------------- canonical bytes

_ESC = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def enc_string(s):
    out = ['"']
    for ch in s:
        if ch in _ESC:
            out.append(_ESC[ch])
        elif ord(ch) < 0x20:
            out.append("\\u%04x" % ord(ch))
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def _bkey(s):
    return s.encode("utf-8")


def enc(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if _is_int(v):
        return str(v)
    if isinstance(v, str):
        return enc_string(v)
    if isinstance(v, list):
        return "[" + ",".join(enc(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ",".join(enc_string(k) + ":" + enc(v[k])
                              for k in sorted(v, key=_bkey)) + "}"
    raise TypeError(type(v))


def dot_key(dot):
    return (dot[0].encode("utf-8"), dot[1])


def to_json(state):
    fields = {}
    for name, (kind, items) in state["fields"].items():
        if kind == "register":
            fields[name] = [items[d] for d in sorted(items, key=dot_key)]
        else:
            fields[name] = {e: [st[d] for d in sorted(st, key=dot_key)] for e, st in items.items()}
    out = {"fields": fields, "id": state["id"], "type": state["type"], "vv": dict(state["vv"])}
    if state["deleted"]:
        out["deleted"] = [state["deleted"][d] for d in sorted(state["deleted"], key=dot_key)]
    return out


def canonical(state):
    return enc(to_json(state)).encode("utf-8")


# --------------------------------------------------------------------------- merge (section 3)

def _value_rank(v):
    if isinstance(v, bool):
        return (0, int(v), b"")
    if _is_int(v):
        return (1, v, b"")
    return (2, 0, v.encode("utf-8"))


def _merge_items(a_items, b_items, a_vv, b_vv):
    out = {}
    for dot in set(a_items) | set(b_items):
        in_a, in_b = dot in a_items, dot in b_items
        if in_a and in_b:
            x, y = a_items[dot], b_items[dot]
            if enc(x) == enc(y):
                out[dot] = x
            else:  # equivocation (invalid history): keep the smaller, order-independent
                out[dot] = min(x, y, key=lambda it: (_value_rank(it.get("value", False)), enc(it)))
        elif in_a:
            if not seen_by(b_vv, dot):
                out[dot] = a_items[dot]
        else:
            if not seen_by(a_vv, dot):
                out[dot] = b_items[dot]
    return out


def merge(a, b):
    if a["id"] != b["id"] or a["type"] != b["type"]:
        raise ProtocolError("identity_mismatch", "different records")
    vv = dict(a["vv"])
    for d, n in b["vv"].items():
        vv[d] = max(vv.get(d, 0), n)
    fields = {}
    for name in set(a["fields"]) | set(b["fields"]):
        kind = (a["fields"].get(name) or b["fields"].get(name))[0]
        fa = a["fields"].get(name, (kind, {}))[1]
        fb = b["fields"].get(name, (kind, {}))[1]
        if kind == "register":
            items = _merge_items(fa, fb, a["vv"], b["vv"])
            if items:
                fields[name] = ("register", items)
        else:
            elements = {}
            for e in set(fa) | set(fb):
                st = _merge_items(fa.get(e, {}), fb.get(e, {}), a["vv"], b["vv"])
                if st:
                    elements[e] = st
            if elements:
                fields[name] = ("set", elements)
    deleted = _merge_items(a["deleted"], b["deleted"], a["vv"], b["vv"])
    return {"type": a["type"], "id": a["id"], "vv": vv, "fields": fields, "deleted": deleted}


# --------------------------------------------------------------------------- conflicts (section 5)

def conflicts(state):
    out = []
    for name, (kind, items) in state["fields"].items():
        if kind == "register" and len({enc(e["value"]) for e in items.values()}) > 1:
            out.append({"field": name, "kind": "concurrent_values",
                        "dots": sorted(items, key=dot_key)})
    tombs = state["deleted"]
    if len({t["value"] for t in tombs.values()}) > 1:
        out.append({"field": "deleted", "kind": "concurrent_values",
                    "dots": sorted(tombs, key=dot_key)})
    # Delete versus edit: every field entry / set stamp (one side per field occurrence)
    # that some true tombstone has not seen, plus the true tombstones that miss an edit.
    edits = []
    for name, (kind, items) in state["fields"].items():
        if kind == "register":
            edits.extend(items)
        else:
            for st in items.values():
                edits.extend(st)  # NB: the same dot under two elements counts per element
    dve_tombs, dve_edits = set(), []
    true_tombs = [t for t in tombs.values() if t["value"]]
    for dot in edits:
        missing = [t for t in true_tombs if not seen_by(t["seen"], dot)]
        if missing:
            dve_edits.append(dot)
            dve_tombs.update(tuple(t["dot"]) for t in missing)
    if dve_edits:
        out.append({"field": "deleted", "kind": "delete_versus_edit",
                    "dots": sorted(list(dve_tombs) + dve_edits, key=dot_key)})
    out.sort(key=lambda c: (c["field"].encode("utf-8"), c["kind"]))
    return [{"field": c["field"], "kind": c["kind"], "dots": [list(d) for d in c["dots"]]}
            for c in out]


# --------------------------------------------------------------------------- history sanity

def history_problems(states):
    """Cheap checks that the inputs can come from one real history."""
    problems = []
    content, times, tomb_dots, field_dots = {}, {}, set(), set()
    for s in states:
        for name, (kind, items) in s["fields"].items():
            groups = [((name,), items)] if kind == "register" else \
                [((name, e), st) for e, st in items.items()]
            for where, group in groups:
                for dot, item in group.items():
                    field_dots.add(dot)
                    key = (where, dot)
                    if key in content and enc(content[key]) != enc(item):
                        problems.append(f"dot {dot} in {where} has two contents (equivocation)")
                    content[key] = item
                    if times.setdefault(dot, item["at"]) != item["at"]:
                        problems.append(f"write {dot} has two times")
            if kind == "set":
                owners = {}
                for e, st in items.items():
                    for dot in st:
                        owners.setdefault(dot, []).append(e)
                for dot, elems in owners.items():
                    if len(elems) > 1:
                        # Rule 3 says "within one field ... no dot appears twice"; whether one
                        # write may add several elements is unsettled, so vectors avoid it.
                        problems.append(f"dot {dot} stamps several elements of {name}: {elems}")
        for dot, t in s["deleted"].items():
            tomb_dots.add(dot)
            key = (("deleted",), dot)
            if key in content and enc(content[key]) != enc(t):
                problems.append(f"tombstone {dot} has two contents")
            content[key] = t
            if t["seen"].get(dot[0]) != dot[1]:
                problems.append(f"tombstone {dot} seen[{dot[0]}] is not its own counter")
    both = tomb_dots & field_dots
    if both:
        problems.append(f"dots used by both a delete/restore and a field write: {sorted(both)}")
    return sorted(set(problems))


def listed_in_order(raw_state):
    """True when the vector spells entries, stamps, tombstones in canonical dot order."""
    def ordered(items):
        keys = [dot_key(i["dot"]) for i in items]
        return keys == sorted(keys)
    for fstate in raw_state.get("fields", {}).values():
        if isinstance(fstate, list) and not ordered(fstate):
            return False
        if isinstance(fstate, dict):
            if list(fstate) != sorted(fstate, key=_bkey):
                return False
            if not all(ordered(st) for st in fstate.values()):
                return False
    return ordered(raw_state.get("deleted", []))


# --------------------------------------------------------------------------- vector replay

def fold(states):
    acc = states[0]
    for s in states[1:]:
        acc = merge(acc, s)
    return acc


def rfold(states):
    acc = states[-1]
    for s in reversed(states[:-1]):
        acc = merge(s, acc)
    return acc


def check_vector(path):
    """Returns a list of failure messages (empty = pass)."""
    with open(path, "rb") as f:
        data = f.read()
    try:
        vec = parse_json(data.decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as e:
        return [f"vector file is not JSON: {e}"]
    fails = []
    base = os.path.basename(path)
    if vec.repeated is not None:
        return [f"vector object repeats key {vec.repeated!r}"]
    for k in ("name", "description", "inputs"):
        if k not in vec:
            fails.append(f"missing {k!r}")
    if fails:
        return fails
    if vec["name"] != base[:-5]:
        fails.append(f"name {vec['name']!r} differs from file name")
    inputs = vec["inputs"]

    if "error" in vec:
        if "expected" in vec or "conflicts" in vec:
            fails.append("an error vector must not hold expected/conflicts")
        codes = []
        for raw in inputs:
            try:
                decode_state(raw)
                codes.append(None)
            except ProtocolError as e:
                codes.append(e.code)
        if vec["error"] not in codes:
            fails.append(f"expected error {vec['error']!r}, decoding gave {codes}")
        if len(inputs) == 1 and codes[0] != vec["error"]:
            fails.append(f"single input decodes with {codes[0]!r}, not {vec['error']!r}")
        return fails

    states = []
    for i, raw in enumerate(inputs):
        try:
            states.append(decode_state(raw))
        except ProtocolError as e:
            fails.append(f"input {i} is invalid: {e}")
    try:
        expected = decode_state(vec["expected"])
    except ProtocolError as e:
        fails.append(f"expected is invalid: {e}")
        expected = None
    if fails:
        return fails
    if not listed_in_order(vec["expected"]):
        fails.append("expected does not list entries/stamps/elements/tombstones in canonical order")
    fails.extend("history: " + p for p in history_problems(states + [expected]))

    want = canonical(expected)
    want_conflicts = vec.get("conflicts")
    if want_conflicts is None:
        fails.append("missing 'conflicts'")
        want_conflicts = []
    got_conflicts = conflicts(expected)
    if got_conflicts != want_conflicts:
        fails.append(f"conflicts of expected: listed {json.dumps(want_conflicts, ensure_ascii=False)}"
                     f" but rules give {json.dumps(got_conflicts, ensure_ascii=False)}")

    orders = list(itertools.permutations(states))
    for i in range(len(states)):
        orders.extend(itertools.permutations(states + [states[i]]))
    seen_bad = set()
    for order in orders:
        for how, result in (("left fold", fold(list(order))), ("right fold", rfold(list(order)))):
            got = canonical(result)
            if got != want and got not in seen_bad:
                seen_bad.add(got)
                fails.append(f"{how} over {len(order)} inputs gives\n      {got.decode()}\n"
                             f"    expected\n      {want.decode()}")
            if conflicts(result) != want_conflicts and ("c", got) not in seen_bad:
                seen_bad.add(("c", got))
                fails.append(f"{how}: conflicts {conflicts(result)}")
    return fails


def main(argv):
    here = os.path.dirname(os.path.abspath(__file__))
    paths = argv[1:] or sorted(
        os.path.join(here, "vectors", n) for n in os.listdir(os.path.join(here, "vectors"))
        if n.endswith(".json"))
    failed = 0
    merges = errors = 0
    for path in paths:
        fails = check_vector(path)
        try:
            with open(path, encoding="utf-8") as f:
                is_error = "error" in parse_json(f.read())
        except ValueError:
            is_error = False
        if is_error:
            errors += 1
        else:
            merges += 1
        if fails:
            failed += 1
            print(f"FAIL {os.path.basename(path)}")
            for msg in fails:
                print("    " + msg)
        else:
            print(f"ok   {os.path.basename(path)}")
    print(f"\n{len(paths) - failed}/{len(paths)} vectors pass "
          f"({merges} merge vectors, {errors} error vectors)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

"""Dump CFFI 2.1.1's parser state for every corpus case, as JSON lines.

    python tests/tools/cffi_decls.py CORPUS_DIR OUT.jsonl

Each line: {"id", "decls": [[key, quals, desc], ...], "consts": {name: str}}
with the same shape as headerwheel's `cdef::debug_dump`. The corpus's own
replay.py rebuilds the FFIs (imported from the corpus at run time).
"""
import json
import os
import sys
import warnings


def desc(tp):
    from cffi import model
    if isinstance(tp, int):
        return str(tp)
    if isinstance(tp, str):
        return tp
    d = {"c": tp._get_c_name()}
    if isinstance(tp, model.StructOrUnion):
        d["fields"] = None if tp.fldnames is None else [
            [n, t._get_c_name(), b, q]
            for n, t, b, q in zip(tp.fldnames, tp.fldtypes, tp.fldbitsize,
                                  tp.fldquals or [0] * len(tp.fldnames))]
        d["partial"] = bool(tp.partial)
        d["packed"] = int(tp.packed or 0)
    elif isinstance(tp, model.EnumType):
        d["enum"] = [list(tp.enumerators), [str(v) for v in tp.enumvalues]]
        d["partial"] = bool(tp.partial)
    return d


def main():
    corpus, out = sys.argv[1], sys.argv[2]
    sys.path.insert(0, corpus)
    import replay
    with open(out, "w") as f:
        for name in sorted(os.listdir(corpus)):
            p = os.path.join(corpus, name, "case.json")
            if not os.path.isfile(p):
                continue
            case = json.load(open(p, encoding="utf-8"))
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    ffis, problems = replay.build_ffis(case)
            except Exception as e:
                f.write(json.dumps({"id": case["id"], "error": type(e).__name__}) + "\n")
                continue
            parser = ffis[case["target_ffi"]]._parser
            decls = [[k, q, desc(tp)] for k, (tp, q) in parser._declarations.items()]
            consts = {k: str(v) for k, v in parser._int_constants.items()}
            f.write(json.dumps({"id": case["id"], "decls": decls, "consts": consts}) + "\n")


if __name__ == "__main__":
    main()

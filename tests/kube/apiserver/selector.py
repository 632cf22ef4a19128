"""Label and field selectors, as the API server parses them (the common subset).

Label: `k=v`, `k==v`, `k!=v`, `k`, `!k`, `k in (a,b)`, `k notin (a,b)`, joined by `,`.
Field: `path=v`, `path==v`, `path!=v` on metadata.name, metadata.namespace, status.phase,
spec.nodeName, spec.restartPolicy, joined by `,`.
"""

import re


class SelectorError(ValueError):
    pass


def _split_terms(text):
    terms, depth, cur = [], 0, []
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            terms.append("".join(cur).strip())
            cur = []
        else:
            cur.append(ch)
    terms.append("".join(cur).strip())
    return [t for t in terms if t]


_SET_RE = re.compile(r"^([A-Za-z0-9_./-]+)\s+(in|notin)\s+\(([^)]*)\)$")


def parse_labels(text):
    """Returns a predicate over a labels dict."""
    preds = []
    for term in _split_terms(text or ""):
        m = _SET_RE.match(term)
        if m:
            key, op, values = m.group(1), m.group(2), {v.strip() for v in m.group(3).split(",")}
            if op == "in":
                preds.append(lambda l, k=key, vs=values: l.get(k) in vs)
            else:
                preds.append(lambda l, k=key, vs=values: l.get(k) not in vs)
            continue
        for op in ("!=", "==", "="):
            if op in term:
                key, value = (s.strip() for s in term.split(op, 1))
                if not key:
                    raise SelectorError(f"invalid label selector term {term!r}")
                if op == "!=":
                    preds.append(lambda l, k=key, v=value: l.get(k) != v)
                else:
                    preds.append(lambda l, k=key, v=value: l.get(k) == v)
                break
        else:
            if term.startswith("!"):
                preds.append(lambda l, k=term[1:].strip(): k not in l)
            elif re.fullmatch(r"[A-Za-z0-9_./-]+", term):
                preds.append(lambda l, k=term: k in l)
            else:
                raise SelectorError(f"invalid label selector term {term!r}")
    return lambda labels: all(p(labels or {}) for p in preds)


FIELDS = {
    "metadata.name": lambda o: o["metadata"].get("name", ""),
    "metadata.namespace": lambda o: o["metadata"].get("namespace", ""),
    "status.phase": lambda o: o.get("status", {}).get("phase", ""),
    "spec.nodeName": lambda o: o.get("spec", {}).get("nodeName", ""),
    "spec.restartPolicy": lambda o: o.get("spec", {}).get("restartPolicy", ""),
}


def parse_fields(text):
    """Returns a predicate over a pod object."""
    preds = []
    for term in _split_terms(text or ""):
        for op in ("!=", "==", "="):
            if op in term:
                key, value = (s.strip() for s in term.split(op, 1))
                break
        else:
            raise SelectorError(f"invalid field selector term {term!r}")
        getter = FIELDS.get(key)
        if getter is None:
            raise SelectorError(f'field label not supported: {key}')
        if op == "!=":
            preds.append(lambda o, g=getter, v=value: g(o) != v)
        else:
            preds.append(lambda o, g=getter, v=value: g(o) == v)
    return lambda obj: all(p(obj) for p in preds)

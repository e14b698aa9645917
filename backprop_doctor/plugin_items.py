"""Which pytest items one model file's report becomes (for `plugin.ModelFile`).

`<layer>::gradient` holds everything the gradient stage found for a layer (every measured
layer has one), `<layer>::<rule>` each other rule, `<file>::load` the load stage. The root
cause's item comes first and holds the symptoms it explains. Plain data in, plain data out:
no pytest here: the grouping reads apart from the collection hooks.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from backprop_doctor.findings import Finding, Measurement, Report

# Findings of these stages share one item per layer: "<layer>::gradient" (resp. "<file>::load").
GRADIENT_STAGE = "gradient"
LOAD_STAGE = "load"


def plan_items(report: Report) -> list[tuple[str | None, list[tuple[str, list[Finding], list[Measurement]]]]]:
    """The items of one report: [(layer or None, [(check, findings, measurements), ...]), ...].

    Findings are grouped by (layer, check). The check is "gradient" for every finding of the
    gradient stage, so each layer has one gradient item (also when it passes: every measured
    layer gets one), "load" for the load stage, else the rule name. A file whose loading failed
    has one item, "load".

    The root cause's item comes first (before a "load" item of notes) and takes the symptoms
    it explains (`caused_by`), with the measurements of a layer whose only findings were
    symptoms: one bug is one failed item, never five led by a symptom. Then the layers in
    the order they were checked, then the file-level checks; within a layer, "gradient" first.
    """
    stage_of = _stages()
    load = [f for f in report.findings if stage_of(f) == LOAD_STAGE]
    if any(f.severity == "error" for f in load):
        return [(None, [("load", load, [])])]

    def check_of(f: Finding) -> str:
        return "gradient" if stage_of(f) == GRADIENT_STAGE else f.name

    root = report.root_cause
    if root is not None and root.severity != "error":  # a load-stage error returned the load item above
        root = None
    groups: dict[tuple[str | None, str], tuple[list[Finding], list[Measurement]]] = {}
    if load:
        groups[(None, "load")] = (load, [])
    root_group = (_node_name(root.layer), check_of(root)) if root is not None else None
    if root_group is not None:
        groups[root_group] = ([], [])
    for m in report.measurements:
        groups.setdefault((_node_name(m.layer), "gradient"), ([], []))[1].append(m)
    had_symptoms: set[tuple[str | None, str]] = set()
    for f in report.findings:
        if stage_of(f) == LOAD_STAGE:
            continue
        key = (_node_name(f.layer), check_of(f))
        if root_group is not None and (f is root or f == root or f.caused_by):
            groups[root_group][0].append(f)
            if key != root_group:
                had_symptoms.add(key)
            continue
        groups.setdefault(key, ([], []))[0].append(f)
    if root_group is not None:
        for key in sorted(had_symptoms, key=lambda k: (k[0] or "", k[1])):  # a set: rows in one order every run
            findings, measurements = groups.get(key, ([], []))
            if not findings:  # everything it found is a symptom: its rows join the root cause
                groups[root_group][1].extend(measurements)
                groups.pop(key, None)
    if not groups:
        groups[(None, "load")] = ([], [])  # loaded, nothing found: one passing item says so

    layers: dict[str | None, list[tuple[str, list[Finding], list[Measurement]]]] = {}
    for (layer, check), (findings, measurements) in groups.items():
        layers.setdefault(layer, []).append((check, findings, measurements))
    first_check = root_group[1] if root_group is not None else "gradient"
    for checks in layers.values():
        checks.sort(key=lambda c: (c[0] != first_check, c[0] != "gradient"))  # stable otherwise
    plan: list[tuple[str | None, list[tuple[str, list[Finding], list[Measurement]]]]] = []
    top = layers.pop(None, [])
    if root_group is not None:
        if root_group[0] is None:
            plan += [(None, [c]) for c in top if c[0] == root_group[1]]
            top = [c for c in top if c[0] != root_group[1]]
        else:
            plan.append((root_group[0], layers.pop(root_group[0])))
    plan += [(None, [c]) for c in top if c[0] == "load"]
    plan += [(layer, checks) for layer, checks in layers.items()]
    plan += [(None, [c]) for c in top if c[0] != "load"]
    return plan


def _node_name(layer: str | None) -> str | None:
    """A layer label as a node name: "::" separates nodes in a node id."""
    return layer.replace("::", ":") if layer else None


def _stages() -> Any:
    """finding -> the causal stage of its rule (see `rules.STAGES`)."""
    from backprop_doctor.rules import all_rules

    rules = all_rules()

    def stage_of(finding: Finding) -> str | None:
        known = rules.get(finding.name)
        if known is not None:
            return known.stage
        # a rule not registered here: its code still tells the stage (BPD00x load, BPD1xx gradient)
        code = (finding.code or "").upper()
        return LOAD_STAGE if code.startswith("BPD00") else GRADIENT_STAGE if code.startswith("BPD1") else None

    return stage_of

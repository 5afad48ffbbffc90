"""``airflow-cloudflow render DEFINITION``: the Airflow plan compiled from a definition, as JSON.

Shows which task each state becomes, how tasks depend on each other and with which trigger rule,
without importing Airflow (the plan is decided in ``planning/plan.py``; the DAG builder only wires it).
"""

from __future__ import annotations

import argparse
import json
import sys

from ..dialects import load_definition
from ..exceptions import DefinitionError
from ..planning.plan import plan


def main(args: argparse.Namespace) -> int:
    from .substitutions import substitutions_for

    try:
        substitutions, issues = substitutions_for(args.definition, getattr(args, "substitutions", None))
        if issues:
            raise DefinitionError(issues)
        machine = load_definition(args.definition, substitutions)
    except DefinitionError as exc:
        for issue in exc.issues:
            print(str(issue), file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"{args.definition}:1:1: CF-E105 cannot read file: {exc.strerror or exc}", file=sys.stderr)
        return 2
    the_plan = plan(machine)
    steps = [
        {
            "task_id": step.task_id,
            "kind": step.kind,
            "state": step.state,
            "upstream": list(step.upstream),
            "trigger_rule": step.trigger_rule,
            **({"group": step.group} if step.group else {}),
            **({"mapped": True} if step.is_mapped else {}),
            **({"region": list(step.region_states)} if step.region_states else {}),
        }
        for step in the_plan.steps
    ]
    print(json.dumps({"dag_id": the_plan.dag_id, "steps": steps}, indent=2, ensure_ascii=False))
    return 0

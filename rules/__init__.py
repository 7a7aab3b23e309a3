"""The rule catalogue: one module per rule, listed here in code order."""

from importlib import import_module
from typing import Dict, Tuple

from txlint.rule import Rule

RULE_MODULES = (
    "txl000_parse_error",
    "txl001_unused_suppression",
    "txl002_suppression_without_reason",
    "txl101_multi_table_write",
    "txl102_loop_write",
    "txl103_split_commit",
    "txl201_raw_sql_write",
    "txl202_write_outside_repository",
    "txl301_file_db_without_cleanup",
    "txl401_snapshot_write_outside_materializer",
)


def all_rules() -> Tuple[Rule, ...]:
    return tuple(import_module(f"{__name__}.{module}").RULE for module in RULE_MODULES)


def rules_by_code() -> Dict[str, Rule]:
    return {rule.code: rule for rule in all_rules()}

"""The notebook gate (tools/check_notebooks.py) finds the defects it promises to find."""
from __future__ import annotations

import importlib.util
import pathlib

ROOT = pathlib.Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("check_notebooks", ROOT / "tools" / "check_notebooks.py")
check = importlib.util.module_from_spec(spec)
spec.loader.exec_module(check)


def test_malformed_cell_markers_are_refused_and_good_ones_pass():
    good = ["# %%", "# %% [markdown]", '# %% tags=["hide-cell"]', '# %% {"tags": ["hide-cell"]}',
            '# %% [markdown] tags=["remove-cell"]']
    bad = ["# %% The standard summary for a detector is the [markdown]",
           '# %% On [markdown] {"incorrectly_encoded_metadata": "x"}']
    assert all(check.CELL_MARKER.match(line) for line in good)
    assert not any(check.CELL_MARKER.match(line) for line in bad)


def test_prose_keys_without_a_glue_call_are_found():
    script = ('# value {glue:text}`a_b:.2f`, {glue:text}`d52_win3` and {glue:text}`zz_missing`\n'
              'glue("a_b", 1)\n'
              'glue(f"d52_win{i}", 2)\n')
    assert check.unglued_keys(script) == ["zz_missing"]


def test_the_course_passes_its_own_gate():
    assert check.main([]) == 0

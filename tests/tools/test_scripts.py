"""The scripts under tools/ and demo/ run on their own: they import installed packages only (what they share is
in uniformer_mm.apis), never each other or a path they add to sys.path, and answer --help from any directory."""
import ast
import re

import pytest

from helpers import PYTHON, ROOT, run

SCRIPTS = sorted(path.relative_to(ROOT).as_posix() for folder in ('tools', 'demo')
                 for path in (ROOT / folder).rglob('*.py'))
# Command-line tools; tools/setup_patches/ edit the installed packages when run, so they are only read here.
COMMANDS = [script for script in SCRIPTS if 'argparse' in (ROOT / script).read_text()]


def imported_modules(script: str) -> set:
    """The top-level names of the modules a script imports (``import a.b`` and ``from a.b import c`` give a)."""
    modules = set()
    for node in ast.walk(ast.parse((ROOT / script).read_text())):
        if isinstance(node, ast.Import):
            modules.update(alias.name.split('.')[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            modules.add(node.module.split('.')[0])
    return modules


@pytest.mark.parametrize('script', SCRIPTS)
def test_script_imports_no_sibling_and_leaves_sys_path_alone(script):
    source = (ROOT / script).read_text()
    assert not re.search(r'sys\.path\.(insert|append|extend)|sys\.path\s*[+=]|PYTHONPATH', source), \
        f'{script} changes the import path; import what it shares from uniformer_mm.apis'
    folder = (ROOT / script).parent
    siblings = {name for name in imported_modules(script)
                if (folder / f'{name}.py').is_file() or (folder / name / '__init__.py').is_file()}
    assert not siblings, f'{script} imports {sorted(siblings)} from its own folder'


def test_the_commands_are_found():
    assert {'tools/convert_checkpoint.py', 'tools/deployment/pytorch2onnx.py', 'demo/inference_demo.py',
            'tools/analysis_tools/benchmark_video.py', 'tools/train.py', 'tools/test.py'} <= set(COMMANDS)


@pytest.mark.slow
@pytest.mark.parametrize('script', COMMANDS)
def test_help_from_another_directory(tmp_path, script):
    assert 'usage:' in run([PYTHON, ROOT / script, '--help'], cwd=tmp_path, timeout=300)


def test_importing_the_package_leaves_the_apis_out():
    # a fresh process: this one has imported uniformer_mm.apis already
    run([PYTHON, '-c', 'import sys, uniformer_mm; assert "uniformer_mm.apis" not in sys.modules, "imported"'])

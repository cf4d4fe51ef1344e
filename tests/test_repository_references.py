"""Every repository path and ``uniformer_mm.*`` module the documentation names exists: the Markdown files, and the
docstrings and comments of the Python files under uniformer_mm/, tools/, demo/ and tests/.

A repository path is a token that starts with one of the repository's top folders (``TOP_FOLDERS``) right after a
space, quote, backtick, bracket or line start (so ``../mmdeploy/tools/deploy.py``, ``mmdet/configs/...`` and URLs,
other repositories' paths, are not), followed by ``/``-separated names of ``[\\w.+-]`` characters. It names a file
when its last name ends in an extension of ``EXTENSIONS``, a folder when it ends in ``/`` or its last name has no
extension (a glob or template such as ``configs/*/metafile.yml`` names its leading folder); other extensions
(``.pth``, ``.onnx``: outputs) are not checked. A module reference is a dotted name such as
``uniformer_mm.<module>.<name>``: its longest prefix that is a module of the package must exist, and the rest must be
a name that module's source has.

CHANGELOG.md is left out: its entries describe the tree as it was at each release, and name paths since moved.
``ELSEWHERE`` lists the few paths the documents name that are not meant to be in this repository.
"""
import ast
import io
import re
import subprocess
import tokenize
from pathlib import PurePosixPath
from typing import Iterator, List, Tuple

import pytest

from helpers import ROOT

TOP_FOLDERS = ('uniformer_mm', 'tools', 'demo', 'tests', 'docs', 'configs', '.dev_scripts', 'requirements')
EXTENSIONS = ('.py', '.md', '.sh', '.yml', '.yaml', '.json', '.txt', '.cfg', '.toml', '.jpg', '.png', '.svg')
NAME = r'\.?[\w+-]+(?:\.[\w+-]+)*'  # a file or folder name; a sentence's full stop is not part of it
PATH = re.compile(r'(?<![\w./:@~-])((?:%s)(?:/%s)*/?)' % ('|'.join(re.escape(f) for f in TOP_FOLDERS), NAME))
MODULE = re.compile(r'(?<![\w./])uniformer_mm(?:\.\w+)+')
HISTORY = ('CHANGELOG.md', )
ELSEWHERE = {
    'tools/deploy.py': "mmdeploy's converter, in mmdeploy's repository",
    'configs/mmpretrain/my-classes.py': "the config docs/finetune.md's image walk-through has the reader write",
    'configs/mmaction/my-video-classes.py': "the config docs/finetune.md's video walk-through has the reader write",
}


def tracked(*patterns: str) -> List[str]:
    return subprocess.run(['git', 'ls-files', *patterns], cwd=ROOT, capture_output=True, text=True,
                          check=True).stdout.split()


def python_prose(source: str) -> Iterator[Tuple[int, str]]:
    """(line, text) of every comment and docstring of a Python source."""
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.COMMENT:
            yield token.start[0], token.string
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) \
                    and isinstance(first.value.value, str):
                yield first.lineno, first.value.value


def documents() -> Iterator[Tuple[str, int, str]]:
    """(file, line, text) of everything checked."""
    for name in tracked('*.md'):
        if name not in HISTORY and (ROOT / name).is_file():
            for number, line in enumerate((ROOT / name).read_text(encoding='utf-8').splitlines(), 1):
                yield name, number, line
    for name in tracked('uniformer_mm/*.py', 'tools/*.py', 'demo/*.py', 'tests/*.py'):
        if (ROOT / name).is_file():
            for number, text in python_prose((ROOT / name).read_text(encoding='utf-8')):
                yield name, number, text


def checked_paths(text: str) -> List[str]:
    """The repository paths a text names, as defined above, without those of an unchecked extension."""
    return [path for path in PATH.findall(text)
            if path.endswith('/') or PurePosixPath(path).suffix in ('', *EXTENSIONS)]


def module_exists(dotted: str) -> bool:
    """Whether ``uniformer_mm.<module>.<name>`` is a module of the package, or a name its longest module prefix has."""
    parts = dotted.split('.')
    for end in range(len(parts), 0, -1):
        base = ROOT.joinpath(*parts[:end])
        for source in (base.with_suffix('.py'), base / '__init__.py'):
            if source.is_file():
                rest = parts[end:]
                return not rest or (len(rest) == 1 and re.search(rf'\b{rest[0]}\b', source.read_text()) is not None)
    return False


def test_the_pattern_finds_paths_as_defined():
    line = ('see `tools/test.py`, configs/mmdeploy/, configs/*/metafile.yml and (docs/setup.md) in tests/e2e. Not '
            '../mmdeploy/tools/deploy.py, mmdet/configs/a.py, https://x.org/tools/a.py or work_dirs/x/tools/a.onnx; '
            'uniformer_mm/.mim/model-index.yml, tools/dist_train.sh.')
    assert checked_paths(line) == ['tools/test.py', 'configs/mmdeploy/', 'configs/', 'docs/setup.md', 'tests/e2e',
                                   'uniformer_mm/.mim/model-index.yml', 'tools/dist_train.sh']
    assert checked_paths('tools/model.onnx') == []
    assert MODULE.findall('uniformer_mm.engine.distributed, `uniformer_mm.launch`') == [
        'uniformer_mm.engine.distributed', 'uniformer_mm.launch']
    assert module_exists('uniformer_mm.engine.distributed') and module_exists('uniformer_mm.apis.count_complexity')
    assert not module_exists('uniformer_mm.launch')


@pytest.fixture(scope='module')
def references() -> List[Tuple[str, int, str, str]]:
    """(file, line, kind, reference) of every path and module named."""
    found = []
    for name, number, text in documents():
        found += [(name, number, 'path', path) for path in checked_paths(text)]
        found += [(name, number, 'module', module) for module in MODULE.findall(text)]
    return found


def test_documents_are_read(references):
    cited = {name for name, *_ in references}
    assert {'README.md', 'docs/training.md', 'tools/convert_checkpoint.py'} <= cited


def test_every_path_named_exists(references):
    missing = [f'{name}:{number}: {path}' for name, number, kind, path in references
               if kind == 'path' and path not in ELSEWHERE and not (ROOT / path).exists()]
    assert not missing, 'named but not in the repository:\n' + '\n'.join(missing)


def test_every_module_named_exists(references):
    missing = [f'{name}:{number}: {module}' for name, number, kind, module in references
               if kind == 'module' and not module_exists(module)]
    assert not missing, 'named but not in the package:\n' + '\n'.join(missing)

"""The docs check (issue 29): what README.md and docs/*.md show works as shown, and nothing is trained.

- Every `jare-*` command in a shell code block (```bash, ```sh, ```shell, ```console) parses with the command's
  own absl flags (names, types, enum values), its positional argument is one it takes, the names it gives
  (--method, --setting, jare-bench's --methods) exist, and every --config.<key> exists in the config of the
  setting it trains, as jare-train resolves it (settings.add_method_options / check_overrides).
- Every launch script in such a block runs with DRY_RUN=1, and the jare-train commands it prints parse too.
- In inline code, the flags beside a command name are flags of that command, a bare --flag is a flag of some
  command, and every --config.<key> exists in some setting's config.
- Every relative link and image resolves to a file, and a #fragment to a heading of the page it names.

Each command's flags are parsed in one subprocess per command module (its flags are absl's global FLAGS, and
several modules define --workdir), all started at once; no module imports TensorFlow. docs/results/ is written
by commands and not checked here. The last tests feed the check broken pages and assert it reports them."""

import copy
import importlib
import json
import os
import pathlib
import re
import shlex
import subprocess
import sys
from typing import Dict, List, Optional, Sequence, Tuple

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
#: The pages checked: the README and the topic pages beside DESIGN.md (docs/results/ is written by commands).
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
SHELL_BLOCKS = ("bash", "sh", "shell", "console")
#: --config keys the docs show on purpose as refused (a setting-wide γ): test_keys_shown_as_refused_are_refused.
SHOWN_AS_REFUSED = ("method.gamma",)
#: absl's help flags, which print and exit: accepted by every command, never parsed here.
HELP_FLAGS = ("help", "helpshort", "helpfull", "helpxml")
REDIRECTS = re.compile(r"[0-9]*[<>]+&?[0-9]*")


def console_scripts() -> Dict[str, str]:
    """{"jare-train": "jare_tf.train", …}: setup.py's console scripts, so a new command is checked too."""
    text = (ROOT / "setup.py").read_text(encoding="utf-8")
    return dict(re.findall(r'"(jare-[\w-]+)=([\w.]+):run"', text))


COMMANDS = console_scripts()
MODULE_COMMANDS = {**{module: name for name, module in COMMANDS.items()}, "jare_tf.bench.cli": "jare-bench"}


# ---------------------------------------------------------------------------------------------------------------
# Reading a page.
# ---------------------------------------------------------------------------------------------------------------

FENCE = re.compile(r"^```([\w-]*)[^\n]*\n(.*?)^```", re.M | re.S)
INLINE = re.compile(r"`([^`\n]+)`")
LINK = re.compile(r"!?\[[^\]\n]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
REFERENCE = re.compile(r"^\s*\[[^\]\n]+\]:\s*(\S+)", re.M)
HTML_SOURCE = re.compile(r"<(?:img|a)\s[^>]*?(?:src|href)=\"([^\"]+)\"", re.I)


def line_of(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def shell_blocks(text: str) -> List[Tuple[int, str]]:
    """(line number, command line) for each line of the shell code blocks, continuation lines joined."""
    lines = []
    for block in FENCE.finditer(text):
        if block.group(1).lower() not in SHELL_BLOCKS:
            continue
        first = line_of(text, block.start(2))
        pending, start = "", None
        for i, line in enumerate(block.group(2).splitlines()):
            start = first + i if start is None else start
            if line.rstrip().endswith("\\"):
                pending += line.rstrip()[:-1] + " "
                continue
            lines.append((start, pending + line))
            pending, start = "", None
        if pending.strip():
            lines.append((start, pending))
    return lines


def prose(text: str) -> str:
    """The page without its code blocks (blanked, so that offsets keep their line numbers)."""
    return FENCE.sub(lambda m: re.sub(r"[^\n]", " ", m.group(0)), text)


def inline_spans(text: str) -> List[Tuple[int, str]]:
    body = prose(text)
    return [(line_of(body, m.start()), m.group(1)) for m in INLINE.finditer(body)]


def simple_commands(line: str) -> List[List[str]]:
    """The simple commands of one shell line (split at &&, ||, ;, | and &; redirections and comments dropped)."""
    lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    commands, current, skip = [], [], False
    for token in lexer:
        if skip:
            skip = False
        elif token in ("&&", "||", ";", "|", "&", ";;"):
            commands.append(current)
            current = []
        elif REDIRECTS.fullmatch(token) and any(c in token for c in "<>"):
            if current and current[-1].isdigit():
                current.pop()                      # the 2 of 2>&1
            skip = True                            # the file, or the 1 of 2>&1
        else:
            current.append(token)
    commands.append(current)
    return [c for c in commands if c]


def classify(tokens: Sequence[str]) -> Optional[Tuple[str, str, List[str], Dict[str, str]]]:
    """("jare", command, argv, env) for a jare-* command (also as `python -m <its module>`), ("launch", script,
    argv, env) for a launch script, or None for anything else (pip, apt-get, tensorboard, …)."""
    env, tokens = {}, list(tokens)
    while tokens and (re.fullmatch(r"[A-Za-z_]\w*=.*", tokens[0]) or tokens[0] in ("env", "sudo", "nohup")):
        word = tokens.pop(0)
        if "=" in word:
            key, value = word.split("=", 1)
            env[key] = value
    if not tokens:
        return None
    if tokens[0] in COMMANDS:
        return "jare", tokens[0], tokens, env
    if tokens[0] in ("python", "python3") and len(tokens) > 2 and tokens[1] == "-m" and tokens[2] in MODULE_COMMANDS:
        name = MODULE_COMMANDS[tokens[2]]
        return "jare", name, [name, *tokens[3:]], env
    if tokens[0] in ("bash", "sh", "python", "python3") and len(tokens) > 1 and tokens[1].startswith("launch/"):
        tokens = tokens[1:]
    if tokens[0].startswith("launch/"):
        return "launch", tokens[0], tokens, env
    return None


# ---------------------------------------------------------------------------------------------------------------
# The child process: one command module's flags, and the command lines given on stdin parsed with them.
# ---------------------------------------------------------------------------------------------------------------


def _child(module_name: str) -> None:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    argvs = json.load(sys.stdin)
    from absl import app, flags
    module = importlib.import_module(module_name)
    app.define_help_flags()                       # cli.run defines them for every command
    names = sorted(flags.FLAGS)
    if module_name == "jare_tf.train":
        names.append("config")                    # defined by run(), from the setting's config
    problems = [_parse(module, flags.FLAGS, argv) for argv in argvs]
    print(json.dumps({"flags": names, "problems": problems, "tensorflow": "tensorflow" in sys.modules}))


def _parse(module, global_flags, argv: List[str]) -> List[str]:
    """What is wrong with `argv` (argv[0] the command) for `module`'s flags: [] when nothing is."""
    from absl import flags
    from jare_tf import config_checks
    asked_for_help = any(a.lstrip("-").split("=")[0] in HELP_FLAGS for a in argv[1:])
    argv = [argv[0]] + [a for a in argv[1:] if a.lstrip("-").split("=")[0] not in HELP_FLAGS]
    values = copy.deepcopy(global_flags)
    try:
        config = _train_config(module, values, argv) if module.__name__ == "jare_tf.train" else None
        rest = values(argv)
        if asked_for_help:
            return []
        choices = getattr(module, "REPORTS", None) or getattr(module, "PREPARERS", None)
        if choices:
            problem = config_checks.positional_problem(rest, list(choices), "argument", "give")
            if problem:
                return [problem]
        elif len(rest) > 1:
            return [f"unexpected arguments {rest[1:]}"]
        return _names(module, values, argv, config)
    except (flags.Error, ValueError) as e:
        return [str(e).strip()]


def _train_config(module, values, argv):
    """jare-train's --config flag for the setting `argv` trains, with the keys jare-train adds (run())."""
    from ml_collections import config_flags
    from jare_tf import settings
    method = module._flag_from_argv(argv, "method")
    module.check_option_flags(argv, method)
    config = settings.load(module._flag_from_argv(argv, "setting"))
    settings.add_method_options(argv, config)
    settings.add_spectrum_operator(argv, config)
    settings.check_overrides(argv, config, method)
    for warning in settings.other_methods_options(argv, method):
        raise ValueError(warning)
    config_flags.DEFINE_config_dict("config", config, flag_values=values, sys_argv=argv)
    return config


def _names(module, values, argv, config) -> List[str]:
    """The checks a command makes of the names and numbers it was given before it builds anything."""
    from jare_tf import config_checks, methods, settings
    from jare_tf.configs import TOY_SETTINGS
    if "method" in values and values["method"].present and values.method not in methods.names():
        return [f"unknown --method={values.method}"]
    if module.__name__ == "jare_tf.train":
        if not values.workdir:
            return ["--workdir is required"]
        config = values.config
        given = [name for name in module.SHORTCUTS if values[name].value is not None]
        for name in given:
            if name not in config:
                return [f"--{name} does not apply to --setting={values.setting}"]
            config[name] = values[name].value
        config_checks.check(config.to_dict(), given)
        config_checks.check_names(config.to_dict(), values.method, config.setting in TOY_SETTINGS)
    if module.__name__.startswith("jare_tf.bench"):
        from jare_tf.bench import parsing
        for name in [s.strip() for s in values.setting.split(",") if s.strip()]:
            settings.load(name)
        for label, name, options in parsing.parse_methods(values.methods):
            unknown = sorted(set(options) - set(config_checks.METHOD_OPTIONS.get(name, options)))
            if unknown:
                return [f"--methods: {label}: {name} has no option {', '.join(unknown)}"]
        parsing.parse_steps_for(values.steps_for)
    return []


def parse_in_children(argvs: Dict[str, List[List[str]]]) -> Dict[str, dict]:
    """{command: {"flags", "problems", "tensorflow"}}: every command's flags, and what is wrong with each of its
    argvs, from one child process per command, all running at once."""
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONPATH=os.pathsep.join(
        [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]))
    children = {}
    for command, module in COMMANDS.items():
        children[command] = subprocess.Popen(
            [sys.executable, __file__, "--child", module], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT)
        children[command].stdin.write(json.dumps(argvs.get(command, [])))
        children[command].stdin.close()
    results = {}
    for command, child in children.items():
        out, err = child.stdout.read(), child.stderr.read()
        child.wait(timeout=120)
        assert child.returncode == 0, f"{command}: the flag parser failed:\n{err[-3000:]}"
        results[command] = json.loads(out.strip().splitlines()[-1])
    return results


# ---------------------------------------------------------------------------------------------------------------
# The check.
# ---------------------------------------------------------------------------------------------------------------


def _slug(heading: str) -> str:
    """GitHub's anchor of a heading: lower case, punctuation dropped, spaces as hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def anchors(text: str) -> set:
    seen, out = {}, set()
    for m in re.finditer(r"^#{1,6}\s+(.+?)\s*#*\s*$", prose(text), re.M):
        slug = _slug(m.group(1))
        out.add(slug if slug not in seen else f"{slug}-{seen[slug]}")
        seen[slug] = seen.get(slug, 0) + 1
    return out


class DocsCheck:
    """The docs check over `pages` ({path: text}); each method returns problems as "page:line: what"."""

    def __init__(self, pages: Dict[pathlib.Path, str], root: pathlib.Path = ROOT):
        self.pages, self.root = pages, root

    def where(self, page: pathlib.Path, line: int) -> str:
        try:
            return f"{page.relative_to(self.root)}:{line}"
        except ValueError:
            return f"{page}:{line}"

    # Links ------------------------------------------------------------------------------------------------

    def link_problems(self) -> List[str]:
        problems = []
        for page, text in self.pages.items():
            body = INLINE.sub(lambda m: " " * len(m.group(0)), prose(text))
            targets = [(m.start(1), m.group(1)) for pattern in (LINK, REFERENCE, HTML_SOURCE)
                       for m in pattern.finditer(body)]
            for offset, target in targets:
                if re.match(r"[A-Za-z][\w+.-]*:", target):          # http:, https:, mailto:
                    continue
                path, _, fragment = target.partition("#")
                resolved = (page.parent / path).resolve() if path else page
                where = self.where(page, line_of(body, offset))
                if not resolved.exists():
                    problems.append(f"{where}: broken link {target} ({resolved} does not exist)")
                elif fragment and resolved.suffix == ".md":
                    text_there = text if resolved == page else resolved.read_text(encoding="utf-8")
                    if fragment not in anchors(text_there):
                        problems.append(f"{where}: broken link {target} (no heading #{fragment} there)")
        return problems

    # Commands ---------------------------------------------------------------------------------------------

    def shown(self):
        """[(where, kind, name, argv, env)] for every jare-* command and launch script in a shell block."""
        out = []
        for page, text in self.pages.items():
            for line_number, line in shell_blocks(text):
                try:
                    commands = simple_commands(line)
                except ValueError as e:
                    out.append((self.where(page, line_number), "unparsable", line, [str(e)], {}))
                    continue
                for tokens in commands:
                    found = classify(tokens)
                    if found:
                        out.append((self.where(page, line_number), *found))
        return out

    def run_launch_script(self, script: str, argv: List[str], env: Dict[str, str]):
        """(problem or "", the jare commands it prints) for a launch script run with DRY_RUN=1."""
        path = self.root / script
        if not path.is_file():
            return f"{script} does not exist", []
        args = [a for a in argv[1:] if a != "--run"]              # sweep.py prints unless --run
        program = [sys.executable] if script.endswith(".py") else ["bash"]
        proc = subprocess.run([*program, str(path), *args], capture_output=True, text=True, timeout=60, cwd=self.root,
                              env=dict(os.environ, **env, DRY_RUN="1"))
        if proc.returncode != 0:
            return f"DRY_RUN=1 {script} exits {proc.returncode}: {proc.stderr.strip()[-500:]}", []
        printed = []
        for line in proc.stdout.splitlines():
            for tokens in simple_commands(line):
                # tpu_pod.sh prints gcloud commands whose --command= is the shell line a host runs
                nested = [t.split("=", 1)[1] for t in tokens if t.startswith("--command=")]
                for tokens_there in [tokens] + [c for n in nested for c in simple_commands(n)]:
                    found = classify(tokens_there)
                    if found and found[0] == "jare":
                        printed.append(found)
        return "", printed

    def command_problems(self) -> Tuple[List[str], Dict[str, dict]]:
        """(problems, the children's results) for every command shown, and every command a launch script
        shown prints."""
        problems, argvs, origins = [], {}, {}
        for where, kind, name, argv, env in self.shown():
            if kind == "unparsable":
                problems.append(f"{where}: cannot split {name!r} into commands: {argv[0]}")
                continue
            found = [(kind, name, argv, env)]
            if kind == "launch":
                problem, found = self.run_launch_script(name, argv, env)
                if problem:
                    problems.append(f"{where}: {problem}")
                where = f"{where} (printed by {name})"
            for _, command, command_argv, _ in found:
                origins.setdefault(command, []).append((where, command_argv))
                argvs.setdefault(command, []).append(command_argv)
        results = parse_in_children(argvs)
        for command, result in results.items():
            if result["tensorflow"]:
                problems.append(f"{command}: parsing its flags imported TensorFlow")
            for (where, argv), found in zip(origins.get(command, []), result["problems"]):
                problems.extend(f"{where}: {shlex.join(argv)}: {p}" for p in found)
        return problems, results

    # Inline code --------------------------------------------------------------------------------------------

    def inline_problems(self, flag_names: Dict[str, Sequence[str]]) -> List[str]:
        """Flags and --config keys in inline code: a command's flags after its name, any command's (or
        launch/sweep.py's) for a span that starts with a bare --flag, none for a span that starts with another
        program's name, and a --config key of some setting in every span."""
        every_flag = set().union(*map(set, flag_names.values()), sweep_flags())
        problems = []
        for page, text in self.pages.items():
            for line_number, span in inline_spans(text):
                where = self.where(page, line_number)
                words = span.split() or [""]
                command = words[0] if words[0] in flag_names else None
                other_program = command is None and not words[0].startswith("-")   # tensorboard --logdir …
                for name in re.findall(r"(?<![\w-])--(\w+)(?![\w.])", span) if not other_program else ():
                    valid = flag_names[command] if command else every_flag
                    if name not in valid:
                        owner = command or "any command"
                        problems.append(f"{where}: `{span}`: --{name} is not a flag of {owner}")
                for key in re.findall(r"(?<![\w-])--config\.([\w.]+)", span):
                    if key.endswith(".") or key in SHOWN_AS_REFUSED:    # a placeholder follows: --config.<path>
                        continue
                    problem = config_key_problem(key)
                    if problem:
                        problems.append(f"{where}: `{span}`: {problem}")
        return problems


def sweep_flags() -> set:
    return set(re.findall(r'add_argument\("--(\w+)"', (ROOT / "launch" / "sweep.py").read_text(encoding="utf-8")))


def config_key_problem(key: str, value: str = "1") -> str:
    """"" when --config.<key> exists in some setting's config as jare-train resolves it, else why not."""
    from jare_tf import settings
    from jare_tf.configs import SETTINGS
    argv = [f"--config.{key}={value}"]
    reasons = []
    for name in SETTINGS:
        config = settings.load(name)
        settings.add_method_options(argv, config)
        settings.add_spectrum_operator(argv, config)
        try:
            settings.check_overrides(argv, config, "jare")
            return ""
        except ValueError as e:
            reasons.append(str(e))
    return f"--config.{key} is in no setting's config ({reasons[0]})"


def read(pages: Sequence[pathlib.Path]) -> Dict[pathlib.Path, str]:
    return {page: page.read_text(encoding="utf-8") for page in pages}


# ---------------------------------------------------------------------------------------------------------------
# The tests.
# ---------------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def checked():
    """The docs check of the real pages: its command problems and every command's flag names."""
    problems, results = DocsCheck(read(PAGES)).command_problems()
    return {"problems": problems, "flags": {command: r["flags"] for command, r in results.items()}}


def test_every_relative_link_and_image_resolves():
    """Every relative link and image of README.md and docs/*.md names a file that exists, and every #fragment a
    heading of the page it links to."""
    assert DocsCheck(read(PAGES)).link_problems() == []


def test_every_command_shown_parses(checked):
    """Every jare-* command in the pages' shell blocks parses with its command's flags (and --config keys with
    its setting's config), every launch script shown runs with DRY_RUN=1, and what it prints parses."""
    assert checked["problems"] == []


def test_every_command_is_shown_in_a_shell_block():
    """Each console script of setup.py and each launch script appears in some shell block, so the check covers
    every command."""
    shown = DocsCheck(read(PAGES)).shown()
    assert set(COMMANDS) - {name for _, kind, name, _, _ in shown if kind == "jare"} == set()
    launchers = {f"launch/{p.name}" for p in (ROOT / "launch").iterdir() if p.suffix in (".sh", ".py")}
    assert launchers - {name for _, kind, name, _, _ in shown if kind == "launch"} == set()


def test_inline_flags_and_config_keys_exist(checked):
    """Flags in inline code are flags of the command they follow (or of some command), and every --config.<key>
    shown inline exists in some setting's config."""
    assert DocsCheck(read(PAGES)).inline_problems(checked["flags"]) == []


def test_keys_shown_as_refused_are_refused():
    """The --config keys the pages show as refused (and the check therefore skips) are refused by every
    setting."""
    for key in SHOWN_AS_REFUSED:
        assert config_key_problem(key) != "", key


def test_the_readme_test_command_is_what_ci_runs():
    """The README's test command is one line, install then pytest, and .ci/run installs the same extra and runs
    the same pytest command."""
    readme = [line for _, line in shell_blocks((ROOT / "README.md").read_text(encoding="utf-8"))]
    assert 'pip install -e ".[test]" && python -m pytest -q -n 2' in readme
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    assert 'pip install -q -e ".[test]"' in ci and "python -m pytest -q -n 2" in ci


BROKEN_PAGE = """# A page with mistakes

See [the missing page](no_such_page.md), [a missing heading](#no-such-heading) and ![a missing figure](gone.png);
[this heading](#a-page-with-mistakes) and [the README](../README.md#methods) exist.

```bash
jare-train --setting=isotropic --method=jare --no_such_flag --workdir=w
jare-train --setting=isotropic --config.data.nu=6 --workdir=w
jare-train --setting=C --method=jare --config.method.options.jare.gama=5 --workdir=w
jare-eval --workdir=w --protocol=no_such_protocol
jare-reproduce toyy
jare-bench --methods=jare:hvp=forward,simgd
launch/local.sh C
jare-spectrum --problem=dirac --method=jare --gamma=1 --json
```

Inline: `jare-spectrum --no_such_option=1`, `--config.optimizer.g.lr=1` and `--no_flag_anywhere`.
"""


def test_the_check_reports_broken_links_unknown_flags_and_unknown_config_keys(tmp_path):
    """Fed a page with a broken link, heading and image, commands with an unknown flag, an unknown --config key
    (also a method option the method lacks), a bad enum value, an unknown report and method, and a launch script
    that refuses its arguments, the check reports each of them, and the correct lines pass."""
    (tmp_path / "docs").mkdir()
    (tmp_path / "README.md").write_text((ROOT / "README.md").read_text(encoding="utf-8"), encoding="utf-8")
    page = tmp_path / "docs" / "broken.md"
    page.write_text(BROKEN_PAGE, encoding="utf-8")
    check = DocsCheck(read([page]), root=tmp_path)
    links = check.link_problems()
    assert len(links) == 3, links
    assert any("no_such_page.md" in p for p in links) and any("gone.png" in p for p in links)
    assert any("#no-such-heading" in p for p in links)

    check.root = ROOT                     # launch/ is the project's
    problems, results = check.command_problems()
    lines = BROKEN_PAGE.splitlines()
    line = {word: 1 + next(i for i, text in enumerate(lines) if word in text)
            for word in ("no_such_flag", "data.nu", "gama", "no_such_protocol", "toyy", "simgd", "local.sh C",
                         "--problem=dirac")}
    expected = {"no_such_flag": "Unknown command line flag 'no_such_flag'", "data.nu": "config.data has no 'nu'",
                "gama": "has no option 'gama'", "no_such_protocol": "--protocol=no_such_protocol",
                "toyy": "unknown argument 'toyy'", "simgd": "unknown method 'simgd'", "local.sh C": "exits 2"}
    for word, text in expected.items():
        assert any(f"broken.md:{line[word]}:" in p and text in p for p in problems), (word, text, problems)
    assert len(problems) == len(expected), problems          # the correct jare-spectrum line passes

    inline = check.inline_problems({c: r["flags"] for c, r in results.items()})
    assert len(inline) == 3, inline
    assert any("--no_such_option is not a flag of jare-spectrum" in p for p in inline)
    assert any("--config.optimizer.g.lr is in no setting's config" in p for p in inline)
    assert any("--no_flag_anywhere is not a flag of any command" in p for p in inline)


if __name__ == "__main__" and sys.argv[1:2] == ["--child"]:
    _child(sys.argv[2])

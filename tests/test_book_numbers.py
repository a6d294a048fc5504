"""Every number in the book's prose is computed or cited (issue 15, section 1).

A number in a markdown cell must be one of
(a) inserted by MyST-NB's ``glue`` from a code cell of the same notebook
    ({glue:text}`name`, {glue:}`name`), so the rendered sentence changes with the result; or
(b) on the short allow-list below, each with its reason.

What the scanner does not look at, because it is not prose that reports a result:
  * math: ``$...$``, ``$$...$$``, ``\\begin{...}...\\end{...}`` and ``{math}`` blocks (the book's
    formulas and the symbols' constants, e.g. $[-1, 1]$);
  * code: inline code and code fences, and every MyST role's content (``{eq}``, ``{ref}``,
    ``{numref}``, ``{doc}``, ``{glue...}``) and directive option lines (``:label:``, ``:width:``);
  * link targets, image paths and HTML attributes;
  * ordered-list markers ("1. ") and numbered names of things: chapter / section / figure / table /
    equation / exercise / algorithm / step ... *N*;
  * citation years: "Author (2017)", "(Author et al., 2018)", "Author and Author, 2019";
  * numbers that are part of a name: a digit glued to letters ("R1", "Lap1", "L2", "fp32",
    "64px" is *not* such a name, "CIFAR-10" is on the names list);
  * the integers 0, 1 and 2 standing alone (bounds, "one of two", "ℓ2 with exponent 2" ...), never
    with decimals ("0.000" is a measured number and is caught).
Everything else -- and any "about/roughly/around/nearly/~" followed by a number, in digits or in
words ("about thirty times") -- is an offender, unless it is in CITED below for that chapter.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"
NOTEBOOKS = sorted(BOOK.glob("*.ipynb"))
# Every .md page. The generated block of instructors.md is left out: its counts come from the notebooks
# (`glo-teach assignments table --write`) and tests/test_assignments.py fails when they disagree.
PAGES = sorted(BOOK.glob("*.md"))
# blocks generated from a record, checked against it by their own tests (instructors.md: the notebooks;
# the preface's timings: bench/results/book-cpu.json, tests/test_book.py)
GENERATED = re.compile(
    r"<!-- BEGIN GENERATED.*?<!-- END GENERATED -->"
    r"|<!-- book-timing:begin -->.*?<!-- book-timing:end -->",
    re.S,
)

# Cited constants. Per page (a notebook's or page's file name, "*" for every page): a regex that matches the
# number *with its context* in the stripped prose, and the number's source. Only the matched phrase is
# allowed, so the same number pasted elsewhere is still caught; an entry that no longer matches fails
# test_every_cited_constant_is_still_used. A number measured by this book's code belongs in a glue, not here.
RING = "Metz et al. (2017), Unrolled GANs: 8 Gaussians, sigma 0.02, radius 2 (glo_teach.data.ring_of_gaussians)"
GRID = "Srivastava et al. (2017), VEEGAN: 25 Gaussians on {-4,...,4}^2, sigma 0.05 (glo_teach.data.grid_of_gaussians)"
TABLE1 = "the GLO paper (Bojanowski et al., 2017), Table 1, MNIST rows"
LOGAN = "Wu et al. (2019), LOGAN, Sec. 4 and appendix: BigGAN-deep settings and results"
CITED: dict[str, dict[str, str]] = {
    "*": {
        r"\b8-Gaussian ring|\bring of 8 modes|\b25-Gaussian grid|\bgrid of 25\b": RING
        + "; "
        + GRID,
        r"\b8 Gaussians (?:of standard deviation 0\.02 )?on a circle of radius 2": RING,
        r"\b25 Gaussians(?: of standard deviation 0\.05)?": GRID,
        r"\b20% (?:of the|rule)": "the book's coverage threshold, defined in chapter 3: m = N // K // 5 in the code",
        r"\b95% (?:of its samples in one|one mode|of its mass on one)": "chapter 3's stand-in generator "
        "(the '95% one mode, 5% spread' sample in its code)",
        r"\bkernel 4, stride [12]": "Radford et al. (2016), DCGAN: 4x4 (transposed) convolutions, stride 2",
        r"\blearning rate 1 for\b|\b10 for\b": "the GLO paper, Sec. 3: SGD learning rate 1 for the generator, 10 for codes",
    },
    "preface.md": {
        r"\btarget: at most 5 minutes on 2 cores, the whole book under 30 minutes": "bench/book_timing.py: "
        "CHAPTER_S, BOOK_S = 300.0, 1800.0, the cpu budget's targets (not a measurement: glue cannot reach this page, "
        "and a pasted timing would go stale)",
    },
    "01_latent_variable_models.ipynb": {
        r"\| 2–5, 9 \||\| 6 \||\| 7, 8, 10 \|": "chapter numbers (the table's 'chapters' column)",
        r"\b70,000 digits": "LeCun et al. (1998), MNIST: 60,000 + 10,000 images",
        r"\bfrom 28 to 32 pixels": "MNIST's 28 x 28 images; the GLO paper resizes them to 32 x 32",
        r"standard deviation 0\.02 and lie 2 apart": RING,
    },
    "03_why_gans_are_hard.ipynb": {
        r"\b128 penultimate-layer": "the digit classifier's feature size (glo_teach.metrics, fid-classifier)",
        r"\bdigits 0–4": "digit class names",
        r"\b5 \(conditioning\) and 10 \(latent": "chapter numbers",
        r"\b5x too wide": "chapter 3's stand-in generator ('right modes, 5x too wide' in its code)",
    },
    "05_conditional_cyclegan.ipynb": {
        r'"7" presented as a "3"': "digit class names",
        r"\b10 constant image planes": "MNIST's 10 classes",
    },
    "06_vae.ipynb": {
        r"\b26\.2 and 25\.7 dB": TABLE1 + " (VAE, train and test)",
    },
    "07_glo.ipynb": {
        r"\bgain 4\b": "Burt and Adelson (1983): EXPAND doubles each axis, so the kernel's gain is 2 x 2",
        r"\bcaps each image at 100 dB": "glo_teach.metrics.psnr's cap (its docstring)",
    },
    "08_table1.ipynb": {
        r"\bPCA 20\.6/20\.3, VAE 26\.2/25\.7, DCGAN 26\.9/27\.2, GLO 27\.0/27\.2": TABLE1,
        r"\bpSNR > 50 dB": "the GLO paper, Sec. 4.4 (glo_teach.reference.SANITY_DB)",
        r"\bby 6\.4 dB \(27\.0 against 20\.6": TABLE1,
        r"\bcurved 32-dimensional|\bany 32-dimensional": "the GLO paper's MNIST latent size d = 32",
    },
    "09_mode_dropping.ipynb": {
        r"\b70,000 grey 28 x 28 images padded to 32 x 32": "Xiao et al. (2017), Fashion-MNIST; the GLO paper's 32 x 32",
    },
    "10_latent_optimisation.ipynb": {
        r"\bLOGAN optimises 50%|\(uniform prior, 50% of\b": LOGAN,
        r"\bLOGAN's 0\.9\b": LOGAN,
        r"\babout 50 million parameters": "Brock et al. (2019), BigGAN: generator parameter count",
    },
    "11_open_questions.ipynb": {
        r"\bthan 95% of the codes are from": "glo_teach.glo.interpolation_off_support: the 0.95 quantile of the codes' "
        "nearest-neighbour distances (its docstring and code)",
        r"\bkurtosis \(3 for a Gaussian\)": "the kurtosis of a Gaussian, 3 (Mardia, 1970)",
    },
}

# Settings quoted from the chapter's own code: regex of the phrase -> the literal the notebook's code must
# contain (test_quoted_settings_match_the_code fails when the code changes and the prose does not).
CODE_SETTINGS: dict[str, dict[str, str | tuple[str, ...]]] = {
    "03_why_gans_are_hard.ipynb": {r"\b5x too wide": "5 * ring.std"},
    "04_better_gans.ipynb": {r"\b1000 simultaneous steps": "n_steps=1000"},
    "06_vae.ipynb": {r"\bthe 16 training digits": "k = 16"},
    "07_glo.ipynb": {r"\bnorm below 0\.99": "< 0.99", r"\bnorm below 0\.5": "< 0.5"},
    "10_latent_optimisation.ipynb": {
        r"\b64-dimensional uniform code": "d, width = 64,",
        r"\b1 under , 2 under , 5 under|\b1 at , 2 at , 5 at": '{"smoke": 1, "cpu": 2}.get(budget.name, 5)',
        r"\bthe same 2,000 prior codes": "2000",
    },
    "11_open_questions.ipynb": {r"\bat least 2% of the samples": "q >= 0.02"},
}

# Budget settings quoted in prose: regex of the phrase -> (budget, Budget field, value), checked against
# glo_teach.budgets by test_quoted_budget_settings_match_the_budgets.
BUDGET_SETTINGS: dict[str, dict[str, tuple[str, str, int | None]]] = {
    "06_vae.ipynb": {r"\(one epoch on 512 images\)": ("smoke", "n_images", 512)},
    "07_glo.ipynb": {
        r"\b10,000 images for 10 epochs": ("cpu", "n_images", 10_000),
        r"\bfor 25\s+epochs": ("gpu", "glo_epochs", 25),
    },
    "08_table1.ipynb": {r"\btrains on 10,000 images": ("cpu", "n_images", 10_000)},
    "10_latent_optimisation.ipynb": {
        r"\(10,000 updates\)": ("gpu", "toy_steps", 10_000),
        r"\bbudget's 2,000": ("cpu", "toy_steps", 2000),
    },
}

# A number: digits with thousands commas and decimals, optionally with %, σ or × / x glued after it.
NUMBER = re.compile(
    r"(?<![\w.])[-−+]?(?:\d[\d,]*(?:\.\d+)?|\.\d+)(?:\s?[%σ×x])?(?![\w])"
    r"|(?<![\w.])\d[\d,]*(?:\.\d+)?(?=[σ×%])"
)
WORDS = (
    r"(?:two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|thirty|forty|fifty|sixty|"
    r"seventy|eighty|ninety|hundred|thousand|half|a third|a quarter|twice|double|triple)"
)
# A hedged quantity: "about 0.2", "roughly thirty", "~5".
HEDGE = re.compile(
    r"\b(?:about|roughly|around|nearly|approximately|some|almost)\s+(?:[-−+]?\d[\d,.]*|"
    + WORDS
    + r")\b|~\s*\d",
    re.I,
)
# A numbered name: "chapter 7", "Eq. (3)", "exercises 2 and 3", "Section 4.4", "Question 3", "version 0.9".
NAMED = re.compile(
    r"\b(?:chapters?|ch\.|chs\.|sections?|sec\.|§|figures?|figs?\.|tables?|equations?|eqs?\.|exercises?|"
    r"algorithms?|alg\.|steps?|parts?|appendix|theorem|lemma|proposition|corollary|definition|cell|cells|"
    r"issue|line|lines|page|pages|row|column|question|questions|seeds?|footnote|week|version)"
    r"\s*\(?\d+(?:\.\d+)*\)?(?:\s*(?:[-–,]|and|to|or)\s*\d+(?:\.\d+)*)*",
    re.I,
)
# A citation year: "Author (2017)", "(Author et al., 2018)", "Author and Author, 2019", "; 2020".
YEAR = re.compile(
    r"(?:[A-Z][\w'’\-]+(?:\s+et al\.?|\s+(?:and|&)\s+[A-Z][\w'’\-]+)?,?\s*\(?|\(|;\s*)(?:19|20)\d\d[a-z]?\b"
)
NAMES = re.compile(
    r"\b(?:CIFAR-10|CIFAR-100|Fashion-MNIST|ResNet-\d+|ImageNet-\d+|MNIST-\d+|LSUN|"
    r"Python 3(?:\.\d+)?|torch==[\d.]+)\b"
)
DIRECTIVE_PROSE = {
    "note",
    "tip",
    "warning",
    "important",
    "admonition",
    "hint",
    "caution",
    "attention",
    "seealso",
    "exercise",
    "solution",
    "dropdown",
    "margin",
    "sidebar",
    "epigraph",
    "topic",
    "danger",
    "error",
}
FENCE = re.compile(
    r"^[ \t]*(?P<f>`{3,}|~{3,}|:{3,})[ \t]*(?P<info>[^\n]*)\n(?P<body>.*?)^[ \t]*(?P=f)[ \t]*$",
    re.M | re.S,
)


def _strip(text: str) -> str:
    """The prose of a markdown cell, with everything that is not a reported number removed."""

    def fence(m: re.Match) -> str:
        info = m.group("info").strip()
        name = re.match(r"\{([\w\-:]+)\}", info)
        if (
            name and name.group(1) in DIRECTIVE_PROSE
        ):  # admonition-like: its body is prose
            return "\n" + _strip(m.group("body")) + "\n"
        return "\n"  # code fence, {math}, {code-block}, {figure} captions are handled by their own text below

    text = FENCE.sub(fence, text)
    text = re.sub(r"^\s*:[\w\-]+:.*$", "", text, flags=re.M)  # directive options
    text = re.sub(r"\$\$.*?\$\$", " ", text, flags=re.S)
    text = re.sub(r"\\begin\{(\w+\*?)\}.*?\\end\{\1\}", " ", text, flags=re.S)
    text = re.sub(r"(?<!\\)\$[^$\n]+?(?<!\\)\$", " ", text)
    text = re.sub(r"\{[\w\-:]+\}`[^`]*`", " ", text)  # roles, glue included
    text = re.sub(r"`[^`\n]*`", " ", text)  # inline code
    text = re.sub(
        r"!?\[([^\]]*)\]\([^)]*\)", r"\1", text
    )  # links and images: keep the text
    text = re.sub(r"<[^>]+>", " ", text)  # HTML tags and their attributes
    text = re.sub(r"https?://\S+", " ", text)
    text = re.sub(r"^\s*\(\S+\)=\s*$", "", text, flags=re.M)  # MyST targets
    text = re.sub(r"^\s*\d+[.)]\s", " ", text, flags=re.M)  # ordered-list markers
    text = re.sub(r"\*\*\d+\.", " ", text)  # bold exercise numbers: **3. Title.**
    text = re.sub(
        r"^\s*#+\s*\d+(?:\.\d+)*\.?\s", " ", text, flags=re.M
    )  # numbered headings
    text = re.sub(
        r"^#+\s*(?:References|Further reading|Reading|Bibliography)\b.*?(?=^#|\Z)",
        " ",
        text,
        flags=re.M | re.S | re.I,
    )  # bibliography: years, volumes, pages of cited works
    text = re.sub(r"arXiv:\s*\d{4}\.\d{4,5}(?:v\d+)?", " ", text)
    text = re.sub(
        r"\*\*Rubric.*?(?=\n\s*\n|^###|\Z)", " ", text, flags=re.S | re.M
    )  # marks, see QUESTION below
    text = re.sub(r"\(\d+(?:\.\d+)? points?\)|\b\d+(?:\.\d+)? points?\b", " ", text)
    text = NAMED.sub(" ", text)
    text = YEAR.sub(" ", text)
    text = NAMES.sub(" ", text)
    return text


def _sentence(text: str, start: int, end: int) -> str:
    left = max(text.rfind(". ", 0, start), text.rfind("\n\n", 0, start))
    right = min(
        [i for i in (text.find(". ", end), text.find("\n\n", end)) if i >= 0]
        or [len(text)]
    )
    return " ".join(text[left + 1 : right + 1].split())[:200]


def _value(token: str) -> float | None:
    try:
        return float(
            token.rstrip("%σ×x ")
            .lstrip("+")
            .replace("−", "-")
            .replace(",", "")
            .replace("_", "")
        )
    except ValueError:
        return None


def code_literals(code: str) -> set[float]:
    """The numeric literals of a notebook's code (``1_000``, ``3e-3``, ``0.05``), as floats."""
    out = set()
    for m in re.finditer(r"(?<![\w.])\d[\d_]*(?:\.\d+)?(?:[eE][-+]?\d+)?", code):
        try:
            out.add(float(m.group(0).replace("_", "")))
        except ValueError:
            pass
    return out


QUESTION = re.compile(
    r"^###\s+Question\b|\*Assignment question|^### BEGIN SOLUTION", re.M
)


def offenders_in(
    text: str, page: str, literals: set[float] = frozenset()
) -> list[tuple[str, str]]:
    """(number, sentence) for each number in markdown ``text`` that is neither glued nor allowed.

    ``literals`` are the numeric literals of the notebook's code: a graded question's statement may
    quote them (its limits and tolerances are the test cell's), no other prose may.
    """
    prose = re.sub(
        r"(?<!\n)[ \t]*\n[ \t]*(?!\n)", " ", _strip(text)
    )  # one line per paragraph
    prose = re.sub(r"[ \t]+", " ", prose)
    for pattern in [
        *CITED.get("*", {}),
        *CITED.get(page, {}),
        *CODE_SETTINGS.get(page, {}),
        *BUDGET_SETTINGS.get(page, {}),
    ]:
        prose = re.sub(pattern, " ", prose)
    question = bool(QUESTION.search(text))
    found: list[tuple[str, str]] = []
    seen: set[int] = set()
    for m in HEDGE.finditer(prose):
        found.append((m.group(0), _sentence(prose, m.start(), m.end())))
        seen.update(range(m.start(), m.end()))
    for m in NUMBER.finditer(prose):
        token = m.group(0).strip().rstrip(",")
        if m.start() in seen:
            continue
        bare = token.rstrip("%σ×x ").lstrip("+")
        if bare in {"0", "1", "2"} and token == bare:
            continue
        value = _value(token)
        if (
            question
            and value is not None
            and (value in literals or (token.endswith("%") and value / 100 in literals))
        ):
            continue
        found.append((token, _sentence(prose, m.start(), m.end())))
    return found


def markdown_cells(path: Path) -> list[tuple[int, str]]:
    if path.suffix == ".md":
        return [(0, GENERATED.sub(" ", path.read_text()))]
    cells = json.loads(path.read_text())["cells"]
    return [
        (i, "".join(c["source"]))
        for i, c in enumerate(cells)
        if c["cell_type"] == "markdown"
    ]


def code_of(path: Path) -> str:
    if path.suffix == ".md":
        return ""
    return "\n".join(
        "".join(c["source"])
        for c in json.loads(path.read_text())["cells"]
        if c["cell_type"] == "code"
    )


def book_offenders(pages: list[Path] | None = None) -> list[str]:
    rows = []
    for path in (
        pages if pages is not None else NOTEBOOKS + [p for p in PAGES if p.exists()]
    ):
        literals = code_literals(code_of(path))
        for index, text in markdown_cells(path):
            for number, sentence in offenders_in(text, path.name, literals):
                rows.append(f"{path.name} cell {index}: {number!r} in: {sentence}")
    return rows


if __name__ == "__main__":
    rows = book_offenders()
    print("\n".join(rows))
    print(len(rows), "offenders")


# ---------------------------------------------------------------------------------------------- the tests

GLUE_ROLE = re.compile(
    r"\{glue(?::\w*)?\}`([^`:]+)(?::[^`]*)?`|^```\{glue(?::\w+)?\}\s+(\S+)", re.M
)
GLUE_CALL = re.compile(r"\bglue\(\s*(f?)([\"'])(.+?)\2")


def glue_names_used(path: Path) -> set[str]:
    return {
        a or b for _, text in markdown_cells(path) for a, b in GLUE_ROLE.findall(text)
    }


def glue_patterns_defined(path: Path) -> list[re.Pattern]:
    """A regex per glue() call of the notebook's code; an f-string name ``f"dirac_dist_{key}"`` matches any key."""
    pats = []
    for f, _, name in GLUE_CALL.findall(code_of(path)):
        pats.append(
            re.compile(
                re.sub(r"\\\{[^}]*\\\}", ".+", re.escape(name))
                if f
                else re.escape(name)
            )
        )
    return pats


def missing_glue(path: Path) -> set[str]:
    defined = glue_patterns_defined(path)
    return {
        n for n in glue_names_used(path) if not any(p.fullmatch(n) for p in defined)
    }


def test_no_pasted_number_in_the_prose():
    rows = book_offenders()
    assert not rows, (
        "numbers in markdown that are neither glued nor on the allow-list of tests/test_book_numbers.py "
        "(glue them from the cell that computes them, or add a cited constant with its source):\n"
        + "\n".join(rows)
    )


def test_every_glue_role_has_a_glue_call_in_its_notebook():
    """jupyter-book warns (and renders nothing) for a {glue} key that no cell of the same notebook glued."""
    missing = {
        nb.name: sorted(missing_glue(nb)) for nb in NOTEBOOKS if missing_glue(nb)
    }
    assert not missing, (
        f"glue roles without a glue() call in the same notebook: {missing}"
    )
    assert not any(glue_names_used(p) for p in PAGES if p.exists()), (
        "glue cannot reach a .md page (glue is per notebook)"
    )


def _notebook_with(tmp_path: Path, markdown: str, code: str = "x = 1") -> Path:
    """A copy of chapter 6 with one more markdown cell (and code cell): the scanner's input as the book has it."""
    nb = json.loads((BOOK / "06_vae.ipynb").read_text())
    nb["cells"] += [
        {"cell_type": "markdown", "metadata": {}, "source": markdown},
        {
            "cell_type": "code",
            "metadata": {},
            "source": code,
            "outputs": [],
            "execution_count": None,
        },
    ]
    path = tmp_path / "06_vae.ipynb"
    path.write_text(json.dumps(nb))
    return path


def test_a_pasted_measured_number_fails(tmp_path):
    assert not book_offenders([BOOK / "06_vae.ipynb"])
    path = _notebook_with(
        tmp_path,
        "This VAE reached 26.4 dB on test digits when the chapter was written.",
    )
    rows = book_offenders([path])
    assert (
        len(rows) == 1
        and "'26.4'" in rows[0]
        and "06_vae.ipynb cell" in rows[0]
        and "when the chapter" in rows[0]
    )


@pytest.mark.parametrize(
    "sentence",
    [
        "Noise scores about thirty times the real images' mean.",  # a hedged quantity in words
        "The mean S of real images is about 0.2.",
        "The off-support fraction is 0.000 even for a fresh Gaussian.",  # decimals are never a bare 0
        "Real images come back several dB worse, 58 dB against 20 dB.",
        "Training took 116 s at the cpu budget.",
    ],
)
def test_the_scanner_catches(sentence):
    found = offenders_in(sentence, "06_vae.ipynb")
    assert found, sentence


@pytest.mark.parametrize(
    "sentence",
    [
        "It reached {glue:text}`vae_psnr_test:.1f` dB, {glue:text}`vae_vs_paper`.",
        "With $\\sigma = 0.1$ and $d = 32$, $$x = 26.4$$ and `lr=1e-3`.",
        "See chapter 8, Table 1, Eq. (3), exercise 2, Section 4.4, Fig. 6 and Question 3.",
        "Goodfellow et al. (2014) and (Arjovsky et al., 2017); Kingma and Welling, 2014.",
        "The R1 penalty, Lap1, CIFAR-10 and an L2 loss.",
        "1. First item\n2. Second item",
        "One of 2 modes, from 0 to 1.",
    ],
)
def test_the_scanner_leaves_alone(sentence):
    assert not offenders_in(sentence, "06_vae.ipynb"), sentence


def test_a_cited_constant_is_allowed_only_in_its_sentence():
    assert not offenders_in(
        "the paper's full-width VAE on all of MNIST reaches 26.2 and 25.7 dB",
        "06_vae.ipynb",
    )
    assert offenders_in(
        "our VAE reached 26.2 dB", "06_vae.ipynb"
    )  # the same number, not the cited phrase
    assert offenders_in(
        "the paper's VAE reaches 26.2 and 25.7 dB", "07_glo.ipynb"
    )  # another chapter's constant


def test_question_statements_may_quote_their_test_cell():
    text = "### Question 4 (2 points): train D\n\nChoose `steps` (at most 1,000) so that D is within 0.05 of D*."
    assert not offenders_in(
        text, "02_gan_game.ipynb", code_literals("assert steps <= 1000 and err < 0.05")
    )
    assert offenders_in(
        text, "02_gan_game.ipynb", code_literals("assert steps <= 500 and err < 0.05")
    )


def test_the_glue_check_catches_a_missing_name(tmp_path):
    path = _notebook_with(
        tmp_path,
        "Glued: {glue:text}`ch06_nowhere:.2f` and {glue:text}`ch06_here`.",
        'from myst_nb import glue\nglue("ch06_here", 1.0, display=False)\nglue(f"ch06_dist_{k}", 2)',
    )
    assert missing_glue(path) == {"ch06_nowhere"}
    path = _notebook_with(
        tmp_path,
        "Glued: {glue:text}`ch06_dist_R1`.",
        'glue(f"ch06_dist_{k}", 2, display=False)',
    )
    assert not missing_glue(path)


def _prose(page: str) -> list[str]:
    paths = NOTEBOOKS + PAGES if page == "*" else [BOOK / page]
    return [
        re.sub(r"[ \t]+", " ", re.sub(r"(?<!\n)[ \t]*\n[ \t]*(?!\n)", " ", _strip(t)))
        for p in paths
        for _, t in markdown_cells(p)
    ]


def test_every_allow_list_entry_is_still_used():
    """An entry whose sentence is gone must go too: the allow-list stays as short as the book needs."""
    stale = []
    for table in (CITED, CODE_SETTINGS, BUDGET_SETTINGS):
        for page, entries in table.items():
            assert page == "*" or (BOOK / page).exists(), page
            texts = _prose(page)
            for pattern in entries:
                for alternative in (
                    re.split(r"\|(?![^()]*\))(?<!\\\|)", pattern)
                    if table is CITED
                    else [pattern]
                ):
                    if not any(re.search(alternative, t) for t in texts):
                        stale.append(f"{page}: {alternative}")
    assert not stale, "allow-list entries that match no prose any more:\n" + "\n".join(
        stale
    )


def test_quoted_settings_match_the_code():
    wrong = []
    for page, entries in CODE_SETTINGS.items():
        code = code_of(BOOK / page)
        for pattern, literals in entries.items():
            for literal in (literals,) if isinstance(literals, str) else literals:
                if literal not in code:
                    wrong.append(
                        f"{page}: prose {pattern!r} quotes {literal!r}, which its code no longer contains"
                    )
    assert not wrong, "\n".join(wrong)


def test_quoted_budget_settings_match_the_budgets():
    from glo_teach.budgets import BUDGETS

    wrong = [
        f"{page}: {pattern!r} says {field} = {value} at {name}, the budget has {getattr(BUDGETS[name], field)}"
        for page, entries in BUDGET_SETTINGS.items()
        for pattern, (name, field, value) in entries.items()
        if getattr(BUDGETS[name], field) != value
    ]
    assert not wrong, "\n".join(wrong)

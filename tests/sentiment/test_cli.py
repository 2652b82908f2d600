"""python -m sentiment score / evaluate / train, as a user runs them."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
import types
from pathlib import Path

import pytest

from sentiment.cli import main

ROOT = Path(__file__).resolve().parents[2]


def write_csv(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows(rows)
    return path


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_score_writes_input_columns_plus_scores(
    tmp_path: Path, three_label_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = write_csv(
        tmp_path / "in.csv",
        [["id", "review"], ["1", "the food was great"], ["2", ""], ["3", "awful, really"]],
    )
    out = tmp_path / "out.csv"
    args = ["score", str(source), "-o", str(out), "--model", str(three_label_dir)]
    assert main([*args, "--backend", "torch"]) == 0
    rows = read_csv(out)
    assert [r["id"] for r in rows] == ["1", "2", "3"]
    assert list(rows[0]) == ["id", "review", "label", "score", "negative", "neutral", "positive"]
    assert rows[0]["label"] in {"negative", "neutral", "positive"}
    assert rows[1]["label"] == ""  # empty text: kept, left unscored
    total = sum(float(rows[2][k]) for k in ("negative", "neutral", "positive"))
    assert total == pytest.approx(1.0, abs=1e-3)
    assert "rows/s" in capsys.readouterr().out


def test_score_labels_a_text_longer_than_the_window_by_its_sentences(
    tmp_path: Path, three_label_dir: Path
) -> None:
    from sentiment import load_model
    from sentiment.documents import DocumentScorer, Window
    from sentiment.inference import predict

    long = " ".join(f"Sentence number {i} says the food was fine." for i in range(120))
    source = write_csv(tmp_path / "in.csv", [["review"], [long], ["short and sweet"]])
    out = tmp_path / "out.csv"
    args = ["score", str(source), "-o", str(out), "--model", str(three_label_dir)]
    assert main([*args, "--backend", "torch"]) == 0
    rows = read_csv(out)
    model = load_model(str(three_label_dir), backend="torch")
    scorer = DocumentScorer(lambda t: predict(model, t, max_chars=None), Window.of(model))
    (whole,) = scorer.score([long], languages=[(None, True)])
    assert whole.sentences  # too long for the window: scored by its sentences, not cut
    assert rows[0]["label"] == whole.label
    assert float(rows[0]["score"]) == pytest.approx(whole.score, abs=1e-3)


def test_score_keeps_existing_label_columns(tmp_path: Path, three_label_dir: Path) -> None:
    source = write_csv(tmp_path / "in.csv", [["text", "label"], ["great fun", "positive"]])
    out = tmp_path / "out.csv"
    args = ["score", str(source), "-o", str(out), "--model", str(three_label_dir)]
    assert main([*args, "--backend", "torch"]) == 0
    (row,) = read_csv(out)
    assert row["label"] == "positive"
    assert row["predicted_label"] in {"negative", "neutral", "positive"}
    assert "predicted_neutral" in row


def test_score_reports_a_missing_column(
    tmp_path: Path, three_label_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = write_csv(tmp_path / "in.csv", [["id", "review"], ["1", "fine"]])
    args = ["score", str(source), "-o", str(tmp_path / "o.csv"), "--text-column", "body"]
    assert main([*args, "--model", str(three_label_dir), "--backend", "torch"]) == 2
    assert "no column 'body'" in capsys.readouterr().err


def test_evaluate_prints_accuracy_and_macro_f1(
    tmp_path: Path, three_label_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "dev.tsv"
    source.write_text("sentence\tlabel\nthe food was great\t2\nawful\t0\nmeeting on tuesday\t1\n")
    args = ["evaluate", str(source), "--text-column", "sentence", "--label-column", "label"]
    assert main([*args, "--model", str(three_label_dir), "--backend", "torch"]) == 0
    out = capsys.readouterr().out
    assert "accuracy" in out
    assert "macro-F1" in out
    assert "neutral" in out


def test_train_is_handed_its_arguments(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[list[str]] = []
    fake = types.ModuleType("sentiment.train")
    fake.main = lambda argv: seen.append(argv) or 0  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "sentiment.train", fake)
    import sentiment

    monkeypatch.setattr(sentiment, "train", fake, raising=False)
    assert main(["train", "--epochs", "1"]) == 0
    assert seen == [["--epochs", "1"]]


def test_average_is_reached_through_the_cli_and_refuses_a_folder_that_is_no_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["average", str(tmp_path), str(tmp_path), "--out", str(tmp_path / "out")])
    assert exited.value.code == 2
    assert "holds no delta.safetensors" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()  # nothing written


def test_module_entry_point_runs_offline(tmp_path: Path, three_label_dir: Path) -> None:
    source = write_csv(tmp_path / "in.csv", [["text"], ["great fun"], ["boring"]])
    out = tmp_path / "out.csv"
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "SENTIMENT_MODEL": str(three_label_dir)}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "sentiment",
            "score",
            str(source),
            "-o",
            str(out),
            "--backend",
            "torch",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert len(read_csv(out)) == 2

"""Framework and pipeline files: what is accepted, and a clear error for each mistake."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest
import yaml

from analytics.errors import InvalidData, InvalidFramework, InvalidPipeline
from analytics.indicators.framework import load_framework, parse_framework
from analytics.indicators.pipeline import load_pipeline, run

EXAMPLES = Path(__file__).resolve().parents[2] / "analytics" / "examples"


def tree(**over) -> dict:
    doc = {
        "name": "t",
        "variants": ["district", "metro"],
        "index": {
            "code": "IDX",
            "children": [
                {
                    "code": "A",
                    "children": [
                        {"code": "a1", "direction": 1, "unit": "%", "psr": "state"},
                        {"code": "a2", "direction": -1, "variants": ["metro"]},
                    ],
                },
                {"code": "B", "children": [{"code": "b1", "direction": 1}]},
            ],
        },
    }
    doc.update(over)
    return doc


@pytest.mark.parametrize(
    ("mutate", "fragment"),
    [
        (lambda d: d["index"]["children"][0]["children"][0].pop("direction"), "needs a direction"),
        (lambda d: d["index"]["children"][1]["children"][0].update(code="a1"), "more than once"),
        (lambda d: d["index"]["children"][0].update(unit="%"), "aggregate A has indicator fields"),
        (lambda d: d["index"]["children"][0]["children"][0].update(direction=2), "direction"),
        (lambda d: d["index"]["children"][0]["children"][0].update(code="1x"), "must start"),
        (lambda d: d["index"]["children"][0]["children"][0].update(psr="maybe"), "psr"),
        (lambda d: d["index"]["children"][0]["children"][0].update(variants=["x"]), "variant"),
        (lambda d: d.update(level_names=["a", "b"]), "2 level_names for a hierarchy of 3"),
        (lambda d: d["index"].update(colour="red"), "colour"),
        (
            lambda d: d["index"]["children"][0]["children"][0].update(
                goalposts={"worst": 1, "best": 1}
            ),
            "worst and best must differ",
        ),
    ],
)
def test_framework_mistakes_are_named(mutate, fragment) -> None:
    doc = tree()
    mutate(doc)
    with pytest.raises(InvalidFramework, match=fragment):
        parse_framework(doc)


def test_variants_narrow_the_tree() -> None:
    assert parse_framework(tree()).indicator_codes == ["a1", "a2", "b1"]
    district = parse_framework(tree(), variant="district")
    assert district.indicator_codes == ["a1", "b1"]
    assert parse_framework(tree(), variant="metro").indicator_codes == ["a1", "a2", "b1"]
    with pytest.raises(InvalidFramework, match="no variant 'county'"):
        parse_framework(tree(), variant="county")


def test_imeta_import_keeps_levels_weights_and_directions() -> None:
    fw = load_framework(EXAMPLES / "data" / "asem_iMeta.csv")
    meta = fw.meta().set_index("iCode")
    assert len(fw.indicators) == 49 and fw.index_code == "Index" and fw.max_level == 4
    assert meta.loc["CO2", "Direction"] == -1 and meta.loc["CO2", "Parent"] == "Environ"
    assert meta.loc["Flights", "Denominator"] == "Population"
    assert fw.groups == ("GDP_group", "GDPpc_group", "Pop_group", "EurAsia_group")


def write_pipeline(tmp_path: Path, steps: list, **over) -> Path:
    doc = {
        "name": "p",
        "framework": str(EXAMPLES / "data" / "asem_iMeta.csv"),
        "data": str(EXAMPLES / "data" / "asem_iData.csv"),
        "steps": steps,
        **over,
    }
    path = tmp_path / "p.yaml"
    path.write_text(yaml.safe_dump(doc))
    return path


@pytest.mark.parametrize(
    ("steps", "over", "error", "fragment"),
    [
        ([{"smooth": {}}], {}, InvalidPipeline, "'smooth' is not one of"),
        ([{"aggregate": {}}, {"normalise": {}}], {}, InvalidPipeline, "order"),
        ([{"aggregate": {}}], {}, InvalidPipeline, "needs a normalise step"),
        ([{"normalise": {}}, {"normalise": {}}], {}, InvalidPipeline, "appears twice"),
        ([{"normalise": {}, "aggregate": {}}], {}, InvalidPipeline, "one mapping"),
        ([{"impute": {"method": "guess"}}], {}, InvalidPipeline, "impute: method"),
        ([{"screen": {"dat_thresh": 2}}], {}, InvalidPipeline, "dat_thresh"),
        ([{"weight": {"method": "ahp"}}], {}, InvalidPipeline, "needs .matrices"),
        ([], {"data": "/nonexistent.csv"}, InvalidData, "does not exist"),
        ([], {"time": 1999}, InvalidData, "time 1999 is not a period"),
        ([], {"colour": 1}, InvalidPipeline, "colour"),
    ],
)
def test_pipeline_mistakes_are_named(tmp_path, steps, over, error, fragment) -> None:
    with pytest.raises(error, match=fragment):
        run(load_pipeline(write_pipeline(tmp_path, steps, **over)))


@pytest.mark.parametrize(
    ("edit", "fragment"),
    [
        (lambda d: d.drop(columns="uCode"), "missing column(s) uCode"),
        (lambda d: pd.concat([d, d.iloc[[3]]]), "line 53 repeats uCode HRV, Time 2018"),
        (
            lambda d: d.assign(LPI=d["LPI"].astype(object).where(d.index != 4, "12,5")),
            "not a number",
        ),
        (lambda d: d.drop(columns="CO2"), "column 'CO2' is not in the data"),
    ],
)
def test_bad_data_is_refused_with_the_cell(tmp_path, edit, fragment) -> None:
    data = pd.read_csv(EXAMPLES / "data" / "asem_iData.csv")
    edit(data).to_csv(tmp_path / "d.csv", index=False)
    path = write_pipeline(tmp_path, [{"normalise": {}}], data=str(tmp_path / "d.csv"))
    with pytest.raises(InvalidData, match=re.escape(fragment)):
        run(load_pipeline(path))


def test_a_run_leaves_its_input_untouched() -> None:
    p = load_pipeline(EXAMPLES / "asem_example.yaml")
    before = p.data.copy()
    run(p)
    pd.testing.assert_frame_equal(p.data, before)


def test_panel_runs_every_period_and_carries_values_forward(tmp_path) -> None:
    data = pd.read_csv(EXAMPLES / "data" / "asem_iData.csv")
    later = data.assign(Time=2019, LPI=data["LPI"] * 1.1)
    later.loc[0, "LPI"] = None  # carried forward from 2018
    panel = pd.concat([data, later])
    panel.to_csv(tmp_path / "panel.csv", index=False)
    steps = [
        {"impute": {"method": "carry_forward"}},
        {"normalise": {"method": "minmax"}},
        {"aggregate": {}},
    ]
    res = run(
        load_pipeline(write_pipeline(tmp_path, steps, data=str(tmp_path / "panel.csv"), time="all"))
    )
    assert res.results.groupby("Time")["rank"].apply(sorted).map(len).tolist() == [51, 51]
    imputed = res.dsets["Imputed"]
    assert imputed.loc[(data.loc[0, "uCode"], 2019), "LPI"] == data.loc[0, "LPI"]
    latest = run(load_pipeline(write_pipeline(tmp_path, steps, data=str(tmp_path / "panel.csv"))))
    assert "Time" not in latest.results.columns and len(latest.results) == 51


def test_ahp_weights_from_a_stakeholder_survey(tmp_path) -> None:
    from analytics.indicators import ahp

    survey = Path(__file__).resolve().parents[1] / "golden" / "ahpsurvey" / "city200.csv"
    criteria = ["cult", "fam", "house", "jobs", "trans"]
    fw = {
        "name": "survey",
        "index": {"code": "I", "children": [{"code": c, "direction": 1} for c in criteria]},
    }
    (tmp_path / "fw.yaml").write_text(yaml.safe_dump(fw))
    data = pd.DataFrame({"uCode": ["u1", "u2", "u3"], **{c: [1.0, 2.0, 3.5] for c in criteria}})
    data.to_csv(tmp_path / "d.csv", index=False)
    doc = {
        "name": "p",
        "framework": "fw.yaml",
        "data": "d.csv",
        "steps": [
            {"normalise": {}},
            {"weight": {"method": "ahp", "surveys": {"I": str(survey)}}},
            {"aggregate": {}},
        ],
    }
    (tmp_path / "p.yaml").write_text(yaml.safe_dump(doc))
    res = run(load_pipeline(tmp_path / "p.yaml"))
    expected = ahp.group(ahp.read_survey(survey), aggregate="aij", drop_inconsistent=True)
    # the experts left out are exactly those above CR 0.1 (Saaty's random index)
    assert list(expected.dropped) == [i for i, cr in enumerate(expected.expert_cr) if cr > 0.1]
    assert 0 < len(expected.dropped) < 200
    assert {c: res.weights[c] for c in criteria} == pytest.approx(dict(expected.weights))
    # the survey misses a child: refused with both lists
    fw["index"]["children"].append({"code": "extra", "direction": 1})
    (tmp_path / "fw.yaml").write_text(yaml.safe_dump(fw))
    pd.concat([data, data[["cult"]].rename(columns={"cult": "extra"})], axis=1).to_csv(
        tmp_path / "d.csv", index=False
    )
    with pytest.raises(InvalidPipeline, match="the group's children are"):
        run(load_pipeline(tmp_path / "p.yaml"))


def test_a_unit_missing_the_latest_year_is_kept_and_imputed(tmp_path) -> None:
    data = pd.read_csv(EXAMPLES / "data" / "asem_iData.csv")
    later = data.assign(Time=2019).iloc[1:]  # the first unit has no 2019 row at all
    pd.concat([data, later]).to_csv(tmp_path / "panel.csv", index=False)
    steps = [{"impute": {"method": "carry_forward"}}, {"normalise": {}}, {"aggregate": {}}]
    res = run(load_pipeline(write_pipeline(tmp_path, steps, data=str(tmp_path / "panel.csv"))))
    first = data.loc[0, "uCode"]
    assert first in set(res.results["uCode"]) and len(res.results) == 51
    assert res.dsets["Imputed"].loc[first, "LPI"] == data.loc[0, "LPI"]
    # without imputation it is kept too, with no score, rather than dropped
    bare = run(load_pipeline(write_pipeline(tmp_path, steps[1:], data=str(tmp_path / "panel.csv"))))
    row = bare.results.set_index("uCode").loc[first]
    assert pd.isna(row["index"]) and pd.isna(row["rank"])


def test_screen_excludes_units_in_a_panel(tmp_path) -> None:
    data = pd.read_csv(EXAMPLES / "data" / "asem_iData.csv")
    pd.concat([data, data.assign(Time=2019)]).to_csv(tmp_path / "panel.csv", index=False)
    steps = [
        {"screen": {"dat_thresh": 0, "exclude": ["AUT"]}},
        {"normalise": {}},
        {"aggregate": {}},
    ]
    res = run(
        load_pipeline(write_pipeline(tmp_path, steps, data=str(tmp_path / "panel.csv"), time="all"))
    )
    assert "AUT" not in set(res.results["uCode"]) and len(res.results) == 100


def test_infinite_values_in_the_data_are_refused(tmp_path) -> None:
    data = pd.read_csv(EXAMPLES / "data" / "asem_iData.csv")
    data.loc[2, "LPI"] = float("inf")
    data.to_csv(tmp_path / "d.csv", index=False)
    path = write_pipeline(tmp_path, [{"normalise": {}}], data=str(tmp_path / "d.csv"))
    with pytest.raises(InvalidData, match=r"indicator LPI: unit .* has an infinite value"):
        run(load_pipeline(path))

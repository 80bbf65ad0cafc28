"""The local runner's command line: config overrides and the one-line failure."""
from pipeline import run_local
from pipeline_config import PipelineConfig


def test_overrides_reach_the_config():
    config = run_local.config_from_args(run_local.parse_args(
        ["--train-steps", "7", "--num-images", "90", "--output-root", "/tmp/x", "--no-cache"]))
    assert (config.train_steps, config.synthetic_num_images) == (7, 90)
    assert config.pipeline_root.startswith("/tmp/x") and not config.enable_cache
    assert PipelineConfig().enable_cache  # the default is untouched


def test_a_user_folder_is_never_generated_into(tmp_path):
    config = run_local.config_from_args(run_local.parse_args(["--data-root", str(tmp_path)]))
    assert config.data_root == str(tmp_path) and config.synthetic_num_images == 0


def test_failure_exits_non_zero_with_one_line(tmp_path, capsys):
    missing = tmp_path / "no-such-folder"
    assert run_local.main(["--data-root", str(missing), "--output-root", str(tmp_path)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: pipeline failed:") and str(missing) in err[0]

"""How long a slider move takes in the face studio to show the new face (issue 31's target:
<= 150 ms on 2 cores): one 64x64 face per request, the model loaded once.

    .venv/bin/python bench/studio_latency.py [MODEL] [--output-root outputs] [--metadata FILE]
                                             [--requests 300] [--browser 60]

Starts `dcgan-faces serve` in a process of its own, as a user does, on a free loopback port,
and measures:
- over HTTP: GET /api/face with the first slider swept across its range, one request after
  the other on one kept-alive connection, from sending the request to the PNG read;
- in Chromium (--browser N > 0, Debian's /usr/bin/chromium through Playwright): N presses of
  the arrow key on the slider, each timed by the page itself from the slider's input event to
  the new face decoded and shown (window.studioTimings), waiting for each face before the next
  press so that no move is folded into another.
Prints the median, the 95th percentile and the largest of each, with the machine's CPU, the
load average (others' work on the machine slows the figures) and the command.
"""

import argparse
import datetime
import http.client
import os
import platform
import re
import select
import statistics
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
TARGET_MS = 150.0
WARM_UP = 10  # requests before timing: TensorFlow traces and allocates on the first calls
START_SECONDS = 300


def cpu() -> str:
    """'<model name>, <n> cores, avx512f' from lscpu and /proc/cpuinfo."""
    model = "unknown CPU"
    try:
        found = re.search(
            r"^Model name:\s*(.+)$",
            subprocess.run(["lscpu"], capture_output=True, text=True).stdout,
            re.MULTILINE,
        )
        model = found.group(1).strip() if found else model
    except OSError:
        pass
    flags = ""
    try:
        with open("/proc/cpuinfo") as f:
            text = f.read()
        flags = next(
            (flag for flag in ("avx512f", "avx2") if re.search(rf"\b{flag}\b", text)),
            "neither avx512f nor avx2",
        )
    except OSError:
        pass
    return f"{model}, {os.cpu_count()} cores, {flags}"


def summary(label: str, times_ms: list) -> str:
    ordered = sorted(times_ms)
    p95 = ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]
    return (
        f"{label}: median {statistics.median(ordered):.1f} ms, p95 {p95:.1f} ms, "
        f"max {ordered[-1]:.1f} ms over {len(ordered)} moves "
        f"({'within' if p95 <= TARGET_MS else 'ABOVE'} the {TARGET_MS:.0f} ms target at p95)"
    )


def start_server(argv: list) -> tuple:
    """(process, base url) of `dcgan-faces serve` on a free loopback port."""
    process = subprocess.Popen(
        [sys.executable, "-m", "dcgan_faces", "serve", *argv, "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    ready, _, _ = select.select([process.stdout], [], [], START_SECONDS)
    line = process.stdout.readline() if ready else ""
    found = re.search(r" at (http://\S+/) ", line)
    if not found:
        process.kill()
        sys.exit(f"serve did not start: {line or 'no output'}")
    print(line.strip())
    return process, found.group(1)


def http_moves(url: str, describe: dict, requests: int) -> list:
    """ms per GET /api/face, the first slider swept back and forth across its range."""
    parsed = urllib.parse.urlparse(url)
    connection = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=60)
    slider = describe["sliders"][0] if describe["sliders"] else None
    times = []
    for i in range(WARM_UP + requests):
        query = {"seed": 0, "index": i % 16}
        if slider:
            span = slider["high"] - slider["low"]
            query["edits"] = f"{slider['name']}={slider['low'] + span * ((i * 7) % 101) / 100:g}"
        started = time.perf_counter()
        connection.request("GET", "/api/face?" + urllib.parse.urlencode(query))
        response = connection.getresponse()
        body = response.read()
        elapsed = (time.perf_counter() - started) * 1000
        if response.status != 200 or not body.startswith(b"\x89PNG"):
            sys.exit(f"/api/face answered {response.status}: {body[:200]!r}")
        if i >= WARM_UP:
            times.append(elapsed)
    connection.close()
    return times


def browser_moves(url: str, describe: dict, moves: int) -> list:
    """ms from a slider's input event to the new face shown, as the page times it."""
    from playwright.sync_api import sync_playwright

    name = describe["sliders"][0]["name"]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        page = browser.new_page()
        page.goto(url)
        page.wait_for_selector("body[data-ready=yes]", timeout=120_000)
        slider = page.locator(f"#slider-{name}")
        slider.focus()
        low, high = float(slider.get_attribute("min")), float(slider.get_attribute("max"))
        key = "ArrowRight"
        for _ in range(WARM_UP + moves):
            value = float(slider.input_value())
            if value >= high or value <= low:  # at an end the key would not move it: turn
                key = "ArrowLeft" if value >= high else "ArrowRight"
            before = page.evaluate("window.studioTimings.length")
            page.keyboard.press(key)
            page.wait_for_function(f"window.studioTimings.length > {before}")
        times = page.evaluate("window.studioTimings")[-moves:]
        browser.close()
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", nargs="?", help="a generator (default: the newest pushed one)")
    parser.add_argument("--output-root", help="the pipeline's output root")
    parser.add_argument("--metadata", help="the pipeline's metadata.sqlite")
    parser.add_argument("--requests", type=int, default=300, help="timed HTTP requests")
    parser.add_argument(
        "--browser", type=int, default=60, help="timed slider moves in Chromium (0: none)"
    )
    args = parser.parse_args()
    argv = (
        ([args.model] if args.model else [])
        + (["--output-root", args.output_root] if args.output_root else [])
        + (["--metadata", args.metadata] if args.metadata else [])
    )

    process, url = start_server(argv)
    try:
        import json
        import urllib.request

        with urllib.request.urlopen(url + "api/model", timeout=60) as response:
            describe = json.load(response)
        print(
            f"{datetime.date.today()}; {cpu()}; load average "
            f"{', '.join(f'{x:.2f}' for x in os.getloadavg())}; Python "
            f"{platform.python_version()}"
        )
        print(
            f"model {describe['model']}: latent size {describe['z_dim']}, "
            f"{len(describe['sliders'])} sliders"
        )
        print(summary("HTTP, request to PNG read", http_moves(url, describe, args.requests)))
        if args.browser and describe["sliders"]:
            print(
                summary(
                    "Chromium, slider input to face shown",
                    browser_moves(url, describe, args.browser),
                )
            )
        print("command: .venv/bin/python bench/studio_latency.py " + " ".join(sys.argv[1:]))
    finally:
        process.terminate()
        process.wait(timeout=30)


if __name__ == "__main__":
    main()

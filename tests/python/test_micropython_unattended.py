"""Unattended updates on the board's MicroPython (the unix port of `make micropython`):
images from http:// URLs served on 127.0.0.1 by this test (tests/python/httptools.py),
`sha256=` checked before the modem commits, `ensure()` done once and continued after the
process was killed, the alive callable (a watchdog's feed) never starved, image objects
that are not io.IOBase streams, and docs/BOARD.md's main.py run as it is.

Each case runs tests/micropython/scenario.py's `call` scenario (its code in a file) against
the simulator, which records what it received: images are compared byte for byte, and its
log says which commands changed the modem.

    SQN_MICROPYTHON=build/micropython-sqn python3 -m pytest -q tests/python/test_micropython_unattended.py
"""

import hashlib
import json
import os
import re
import signal
import subprocess
import time

import pytest

from httptools import Blackhole, HttpServer, closed_port
from simtools import REPO, Sim, changing_commands, last_transfer_bytes, make_dup, make_elf
from test_micropython import MICROPYTHON, RECORD_KEYS, SCENARIO, four_lines, mp

# The watchdog bound of issue 13: the alive callable is called at least this often (the
# engine aims at 250 ms, the shim's socket waits are 250 ms slices).
ALIVE_MS = 1000
IMAGE = "/CATM1-41065.dup"


def call(tmp_path, sim, code, timeout=240):
    """Runs `code` in the scenario `call` (sqnsupgrade, pty, alive, at_third, WDT and the
    image classes in scope); returns (exit code, output, tags)."""
    path = tmp_path / ("code-%d.py" % time.monotonic_ns())
    path.write_text(code)
    return mp("call", sim, path, timeout=timeout)


def sha(data):
    return hashlib.sha256(data).hexdigest()


def assert_alive(t, out):
    calls, gap = t["alive"]
    assert calls > 0 and gap < ALIVE_MS, (t["alive"], out)


def commands(log):
    return [c["cmd"] for c in log["commands"]]


@pytest.fixture
def image(tmp_path):
    return make_dup(tmp_path, "CATM1-41065.dup", 900_000)


@pytest.fixture
def http(image):
    with HttpServer() as server:
        server.file(IMAGE, image.read_bytes())
        yield server


@pytest.mark.parametrize("method", ["FFF", "ON_THE_FLY"])
@pytest.mark.parametrize("digest", [False, True])
def test_run_from_a_url(tmp_path, image, http, method, digest):
    data = image.read_bytes()
    args = "port=pty, alive=alive, load_fff=%s" % (method == "FFF")
    if digest:
        args += ", sha256=%r" % sha(data)
    with Sim(tmp_path / "sim") as sim:
        code, out, t = call(tmp_path, sim, "value = sqnsupgrade.run(%r, %s)" % (http.url(IMAGE), args))
    assert code == 0 and t["value"] is True, out
    r = t["result"]
    assert r["ok"] and r["method"] == method and r["build_after"] == 41065, r
    assert sim.log["violations"] == []
    via = "AT+SMSTPU" if method == "FFF" else 'AT+SMSTPU="ON_THE_FLY"'
    assert sim.log["transfers"][0]["via"] == via
    assert last_transfer_bytes(sim.log) == data
    # ON_THE_FLY with a digest: the URL is read whole once for it (before anything
    # changes the modem), then asked again for the transfer; FFF checks what it sent.
    assert http.hits[IMAGE] == (2 if digest and method == "ON_THE_FLY" else 1), http.hits
    assert_alive(t, out)


@pytest.mark.parametrize("method", ["FFF", "ON_THE_FLY"])
def test_a_wrong_sha256_commits_nothing(tmp_path, http, method):
    url = http.url(IMAGE)
    with Sim(tmp_path / "sim") as sim:
        code, out, t = call(tmp_path, sim, "value = sqnsupgrade.run(%r, port=pty, load_fff=%s, sha256=%r)"
                            % (url, method == "FFF", sha(b"another image")))
    assert code == 0 and t["value"] is False, out
    lines = four_lines(out)
    assert "is not the image the SHA-256 given names" in lines["error"], out
    assert "nothing was flashed" in lines["hint"], out
    assert "AT+SMUPGRADE" not in commands(sim.log)
    assert sim.log["state"] == 2 and sim.log["software_build"] == 38638, sim.log["states"]
    assert sim.log["violations"] == []
    if method == "FFF":
        # Stored, then refused before the commit: the modem stays in application mode.
        assert lines["modem"] == "2 application mode (FFF)", out
        assert len(sim.log["transfers"]) == 1
    else:
        # Checked before anything changed the modem.
        assert lines["modem"] == "not changed", out
        assert changing_commands(sim.log) == [], sim.log["commands"]


def test_a_server_that_stops_mid_body_fff_leaves_the_modem_as_it_was(tmp_path, image, http):
    http.file("/cut.dup", image.read_bytes(), cut_once=300_000)
    with Sim(tmp_path / "sim") as sim:
        code, out, t = call(tmp_path, sim, "value = sqnsupgrade.run(%r, port=pty)" % http.url("/cut.dup"))
    assert code == 0 and t["value"] is False, out
    lines = four_lines(out)
    assert lines["error"] == "the image could not be read", out
    assert lines["modem"] == "2 application mode (FFF)", out
    assert "AT+SMUPGRADE" not in commands(sim.log)
    assert sim.log["state"] == 2 and sim.log["software_build"] == 38638
    assert sim.log["violations"] == []


def test_a_server_that_stops_mid_body_on_the_fly_then_next_completes(tmp_path, image, http):
    data = image.read_bytes()
    http.file("/cut.dup", data, cut_once=300_000)
    url = http.url("/cut.dup")
    with Sim(tmp_path / "sim") as sim:
        code, out, t = call(tmp_path, sim, "value = sqnsupgrade.run(%r, port=pty, load_fff=False, alive=alive)" % url)
        assert code == 0 and t["value"] is False, out
        lines = four_lines(out)
        assert lines["error"] == "the image could not be read", out
        assert lines["modem"] == "4 upgrade mode", out
        assert lines["next"] == "sqnsupgrade.run(%r, load_fff=False, port=%r)" % (url, sim.pty), out
        assert_alive(t, out)
        # The printed next step, run as it is (the server now sends the whole body).
        code, out, t = call(tmp_path, sim, "value = " + lines["next"])
    assert code == 0 and t["value"] is True, out
    assert sim.log["state"] == 2 and sim.log["software_build"] == 41065
    assert last_transfer_bytes(sim.log) == data
    assert sim.log["violations"] == []


def test_redirects_are_followed(tmp_path, image, http):
    http.redirect("/old.dup", "/new/CATM1-41065.dup")                      # from the root
    http.redirect("/new/CATM1-41065.dup", "moved.dup")                     # relative
    http.redirect("/new/moved.dup", http.url(IMAGE))                       # absolute
    with Sim(tmp_path / "sim") as sim:
        code, out, t = call(tmp_path, sim, "value = sqnsupgrade.run(%r, port=pty)" % http.url("/old.dup"))
    assert code == 0 and t["value"] is True, out
    assert last_transfer_bytes(sim.log) == image.read_bytes()
    assert http.hits == {"/old.dup": 1, "/new/CATM1-41065.dup": 1, "/new/moved.dup": 1, IMAGE: 1}


URL_FAILURES = {
    "404": (lambda h: h.url("/nothere.dup"), None,
            "firmware image: the server answered HTTP 404 instead of the file",
            "check the URL (the server has no such file, or refused it)"),
    "no_length": (lambda h: h.url("/nolen.dup"), None,
                  "firmware image: the server did not say the file's length (Content-Length)",
                  "serve the file from a server that sends Content-Length"),
    "refused": (lambda h: "http://127.0.0.1:%d%s" % (closed_port(), IMAGE), None,
                "firmware image: no server answered (error 111)",
                "check the network (WiFi connected?) and the server's address and port"),
    "redirects": (lambda h: h.url("/loop.dup"), None,
                  "firmware image: redirected too many times, or to an address that is not http or https",
                  "give the file's final address"),
    "not_http": (lambda h: h.url("/ftp.dup"), None,
                 "firmware image: redirected too many times, or to an address that is not http or https",
                 "give the file's final address"),
    "no_tls": (lambda h: h.url(IMAGE).replace("http://", "https://"), None,
               "firmware image: is an https address, and this firmware has no TLS (ssl)",
               "use an http address, or a firmware with ssl"),
    "bad_sha256": (lambda h: h.url(IMAGE), "12" * 31 + "xy",
                   "the SHA-256 given is not 64 hexadecimal digits",
                   "give the image's SHA-256 as 64 hexadecimal digits"),
}


@pytest.mark.parametrize("case", sorted(URL_FAILURES))
def test_url_failures_each_say_what_and_touch_nothing(tmp_path, image, http, case):
    http.file("/nolen.dup", image.read_bytes(), length=False)
    http.redirect("/loop.dup", "/loop.dup")
    http.redirect("/ftp.dup", "ftp://127.0.0.1/CATM1-41065.dup")
    url_of, digest, error, hint = URL_FAILURES[case]
    url = url_of(http)
    with Sim(tmp_path / "sim") as sim:
        code, out, t = call(tmp_path, sim, "value = sqnsupgrade.run(%r, port=pty, sha256=%r, alive=alive)"
                            % (url, digest))
    assert code == 0 and t["value"] is False, out
    lines = four_lines(out)
    assert lines["error"].endswith(error), out
    assert lines["hint"].startswith(hint), out
    assert lines["modem"] == "not changed", out
    # The command that continues is the same call (the digest left out when it was the
    # problem).
    assert lines["next"] == "sqnsupgrade.run(%r, port=%r)" % (url, sim.pty), out
    r = t["result"]
    assert set(r) == RECORD_KEYS and r["status"] == 2 and not r["modem_changed"], r
    assert sim.log["commands"] == [], "the modem was not even asked"
    assert_alive(t, out)


@pytest.mark.parametrize("case", ["connect", "answer", "body"])
def test_a_silent_server_never_starves_the_alive_callable(tmp_path, image, http, case):
    # A host that is gone (the connect neither completes nor fails), a server that takes
    # the request and never answers, one that stops sending mid-body: the shim waits in
    # slices with the alive callable between them, and gives up after _QUIET_MS (30 s;
    # 3 s here).
    http.silent("/silent.dup")
    http.file("/stall.dup", image.read_bytes(), stall_once=300_000)
    with Blackhole() as gone:
        url = {"connect": gone.url(IMAGE), "answer": http.url("/silent.dup"),
               "body": http.url("/stall.dup")}[case]
        with Sim(tmp_path / "sim") as sim:
            code, out, t = call(tmp_path, sim, "import time\nsqnsupgrade._QUIET_MS = 3000\n"
                                "alive.last = time.ticks_ms()\n"
                                "value = sqnsupgrade.run(%r, port=pty, alive=alive)" % url)
    assert code == 0 and t["value"] is False, out
    lines = four_lines(out)
    if case == "body":
        assert lines["error"] == "the image could not be read", out
        assert lines["modem"] == "2 application mode (FFF)", out
        assert "AT+SMUPGRADE" not in commands(sim.log)
    else:
        assert lines["error"] == "%s: firmware image: no server answered (error 110)" % url, out
        assert lines["modem"] == "not changed" and sim.log["commands"] == [], out
    calls, gap = t["alive"]
    assert calls >= 8 and gap < ALIVE_MS, (t["alive"], out)


# ---- image objects -----------------------------------------------------------------


@pytest.mark.parametrize("kind", ["ReadintoOnly", "ReadOnly"])
def test_an_object_with_readinto_or_read_is_an_image(tmp_path, image, kind):
    with Sim(tmp_path / "sim") as sim:
        code, out, t = call(tmp_path, sim, "value = sqnsupgrade.run(%s(%r), size=%d, name='CATM1-41065.dup', "
                            "port=pty)" % (kind, str(image), image.stat().st_size))
    assert code == 0 and t["value"] is True, out
    assert last_transfer_bytes(sim.log) == image.read_bytes()
    assert sim.log["violations"] == []


def test_an_object_that_cannot_be_read_is_refused_before_the_modem_is_asked(tmp_path):
    with Sim(tmp_path / "sim") as sim:
        code, out, t = call(tmp_path, sim, "value = sqnsupgrade.run(Neither(), name='x.dup', port=pty)")
    assert code == 0 and t["value"] is False, out
    lines = four_lines(out)
    assert lines["error"].endswith("firmware image: is an object that cannot be read "
                                   "(it has no readinto() or read())"), out
    assert lines["hint"] == "give a path, a URL, or an object with readinto() or read()", out
    assert lines["modem"] == "not changed", out
    assert t["result"]["status"] == 2
    assert sim.log["commands"] == []


def test_a_digest_of_a_stream_is_checked_after_an_fff_transfer_and_refused_ahead(tmp_path, image):
    # A plain stream can be read once: FFF checks what it sent; a flow that flashes as it
    # streams cannot check it first, and says so before anything changes the modem.
    data = image.read_bytes()
    stream = "ReadintoOnly(%r), size=%d, name='CATM1-41065.dup', port=pty, sha256=%r" % (
        str(image), len(data), sha(data))
    with Sim(tmp_path / "sim") as sim:
        code, out, t = call(tmp_path, sim, "value = sqnsupgrade.run(%s)" % stream)
    assert code == 0 and t["value"] is True, out
    assert last_transfer_bytes(sim.log) == data
    with Sim(tmp_path / "sim2") as sim:
        code, out, t = call(tmp_path, sim, "value = sqnsupgrade.run(%s, load_fff=False)" % stream)
    assert code == 0 and t["value"] is False, out
    lines = four_lines(out)
    assert "can be read only once" in lines["error"] and lines["modem"] == "not changed", out
    assert changing_commands(sim.log) == []


# ---- ensure() ----------------------------------------------------------------------


def test_ensure_twice_the_second_changes_nothing(tmp_path, image, http):
    record = tmp_path / "record.json"
    code_text = "value = sqnsupgrade.ensure(%r, 41065, sha256=%r, record=%r, port=pty, alive=alive)" % (
        http.url(IMAGE), sha(image.read_bytes()), str(record))
    with Sim(tmp_path / "sim") as sim:
        code, out, t = call(tmp_path, sim, code_text)
        assert code == 0 and t["value"]["ok"] and t["value"]["build_after"] == 41065, out
        assert t["value"] == t["result"]
        assert "The modem runs build 38638, not 41065: updating." in out
        assert_alive(t, out)
        rec = json.loads(record.read_text())
        assert rec["target"] == 41065 and rec["tries"] == 1 and rec["status"] == 0, rec
        assert rec["started"] <= rec["finished"] and rec["state"] == 2 and rec["build"] == 41065, rec
        time.sleep(0.5)  # the simulator writes its log after each exchange
        before = len(sim.current_log()["commands"])
        code, out, t = call(tmp_path, sim, code_text)
    assert code == 0 and t["value"]["ok"], out
    assert "The modem already runs build 41065: nothing to do." in out
    assert t["value"]["command"] == "ensure" and not t["value"]["modem_changed"], t["value"]
    assert_alive(t, out)
    later = sim.log["commands"][before:]
    assert later and [c["cmd"] for c in later if c["changes_modem"]] == [], later
    assert len(sim.log["transfers"]) == 1 and http.hits[IMAGE] == 1
    assert json.loads(record.read_text()) == rec, "nothing to do: the record stays as it was"


@pytest.mark.parametrize("method", ["FFF", "ON_THE_FLY"])
def test_ensure_continues_after_the_process_was_killed_mid_transfer(tmp_path, image, http, method):
    # The board dies in the middle of the transfer (here the process, with SIGKILL) while
    # the modem keeps its power and stays inside the STP session; the next ensure()
    # (the next boot) ends that session and completes the update: no power cycle.
    record = tmp_path / "record.json"
    ensure = "sqnsupgrade.ensure(%r, 41065, record=%r, port=pty, load_fff=%s" % (
        http.url(IMAGE), str(record), method == "FFF")
    first = tmp_path / "first.py"
    # The progress callback stops the call at a third, in the middle of the transfer.
    first.write_text("import time\n"
                     "def stuck(done, total):\n"
                     "    at_third(done, total)\n"
                     "    if done * 3 > total:\n"
                     "        time.sleep(600)\n"
                     "value = %s, progress=stuck)\n" % ensure)
    env = dict(os.environ, MICROPYPATH=str(REPO / "python_shim"))
    with Sim(tmp_path / "sim") as sim:
        proc = subprocess.Popen([MICROPYTHON, str(SCENARIO), "call", sim.pty, str(first)],
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env)
        seen = b""
        deadline = time.monotonic() + 120
        while b"@@at=" not in seen and time.monotonic() < deadline and proc.poll() is None:
            seen += proc.stdout.read1(4096)
        assert b"@@at=" in seen, seen.decode(errors="replace")
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        proc.stdout.close()
        rec = json.loads(record.read_text())
        assert rec["tries"] == 1 and rec["finished"] is None and rec["status"] is None, rec
        time.sleep(0.5)
        log = sim.current_log()
        assert log["transfers"] and not log["transfers"][-1]["complete"], log["transfers"]
        code, out, t = call(tmp_path, sim, "value = %s, alive=alive)" % ensure)
    assert code == 0 and t["value"]["ok"], out
    assert "The modem was still inside an unfinished transfer: ended it (STP RESET)" in out
    assert t["value"]["build_after"] == 41065 and sim.log["state"] == 2
    assert last_transfer_bytes(sim.log) == image.read_bytes()
    # The detection's first AT lines reached the modem inside the session, as garbage
    # frames (it cannot know before it asked): nothing else went wrong.
    garbage = ("STP: bad signature", "STP: incomplete frame")
    assert all(v.startswith(garbage) for v in sim.log["violations"]), sim.log["violations"]
    assert_alive(t, out)
    rec = json.loads(record.read_text())
    assert rec["tries"] == 2 and rec["status"] == 0 and rec["build"] == 41065, rec


def test_ensure_stops_after_its_tries(tmp_path, http):
    record = tmp_path / "record.json"
    record.write_text(json.dumps({"target": 41065, "tries": 3, "status": 1}))
    with Sim(tmp_path / "sim") as sim:
        code, out, t = call(tmp_path, sim, "value = sqnsupgrade.ensure(%r, 41065, record=%r, port=pty)"
                            % (http.url(IMAGE), str(record)))
    assert code == 0 and not t["value"]["ok"], out
    lines = four_lines(out)
    assert lines["error"] == "no new try: the update was tried 3 times already", out
    assert lines["next"] == "sqnsupgrade.run(%r, port=%r)" % (http.url(IMAGE), sim.pty), out
    assert changing_commands(sim.log) == [] and http.hits == {}
    assert json.loads(record.read_text())["tries"] == 3


def test_a_corrupt_record_starts_afresh(tmp_path, image, http):
    record = tmp_path / "record.json"
    record.write_text('{"target": 41065, "tries": ')
    with Sim(tmp_path / "sim") as sim:
        code, out, t = call(tmp_path, sim, "value = sqnsupgrade.ensure(%r, 41065, record=%r, port=pty)"
                            % (http.url(IMAGE), str(record)))
    assert code == 0 and t["value"]["ok"], out
    assert json.loads(record.read_text())["tries"] == 1


def test_ensure_from_a_folder_uses_the_upgdiff_from_the_modems_build(tmp_path):
    folder = tmp_path / "images"
    folder.mkdir()
    make_dup(folder, "CATM1-41065.dup", 700_000)
    diff = make_dup(folder, "upgdiff_38638-to-41065.dup", 300_000, "upgdiff_38638-to-41065")
    make_dup(folder, "upgdiff_33080-to-41065.dup", 300_000, "upgdiff_33080-to-41065")
    (folder / "notes.txt").write_text("not an image")
    with Sim(tmp_path / "sim") as sim:
        code, out, t = call(tmp_path, sim, "value = sqnsupgrade.ensure(%r, 41065, record=None, port=pty)"
                            % str(folder))
    assert code == 0 and t["value"]["ok"], out
    assert last_transfer_bytes(sim.log) == diff.read_bytes()


@pytest.mark.parametrize("modem_build,used", [(38638, "diff"), (33080, "full")])
def test_ensure_from_a_dict_of_builds(tmp_path, modem_build, used):
    full = make_dup(tmp_path, "CATM1-41065.dup", 700_000)
    diff = make_dup(tmp_path, "upgdiff_38638-to-41065.dup", 300_000, "upgdiff_38638-to-41065")
    with HttpServer() as http:
        http.file("/full", full.read_bytes())        # URLs that do not name the image
        http.file("/diff", diff.read_bytes())
        source = {38638: http.url("/diff"), "full": http.url("/full")}
        digests = {38638: sha(diff.read_bytes()), "full": sha(full.read_bytes())}
        with Sim(tmp_path / "sim", "--software-build", str(modem_build)) as sim:
            code, out, t = call(tmp_path, sim, "value = sqnsupgrade.ensure(%r, 41065, sha256=%r, record=None, "
                                "port=pty, load_fff=False)" % (source, digests))
        hits = dict(http.hits)
    assert code == 0 and t["value"]["ok"], out
    chosen = diff if used == "diff" else full
    assert last_transfer_bytes(sim.log) == chosen.read_bytes()
    assert hits == {"/" + used: 2}, hits  # the digest first, then the transfer


def test_ensure_from_a_stream_with_a_record_kept_in_a_dict(tmp_path, image):
    code_text = ("rec = {}\n"
                 "value = [sqnsupgrade.ensure(ReadintoOnly(%r), 41065, size=%d, name='CATM1-41065.dup', "
                 "record=rec, port=pty) for _ in range(2)], rec\n" % (str(image), image.stat().st_size))
    with Sim(tmp_path / "sim") as sim:
        code, out, t = call(tmp_path, sim, code_text)
    (first, second), rec = t["value"]
    assert first["ok"] and first["command"] == "run" and second["command"] == "ensure", out
    assert rec["tries"] == 1 and rec["status"] == 0, rec
    assert len(sim.log["transfers"]) == 1 and last_transfer_bytes(sim.log) == image.read_bytes()


# ---- the watchdog: never starved -----------------------------------------------------

FLOWS = {
    "run_fff": ([], "value = sqnsupgrade.run(URL, port=pty, sha256=SHA, alive=alive)", True),
    "run_on_the_fly": ([], "value = sqnsupgrade.run(URL, port=pty, sha256=SHA, load_fff=False, alive=alive)", True),
    "recovery": (["--state", "0"], "value = sqnsupgrade.run(PATH, ELF, port=pty, alive=alive)", True),
    "info": (["--state", "4"], "value = sqnsupgrade.info(port=pty, alive=alive)", True),
    "state": ([], "value = sqnsupgrade.state(port=pty, alive=alive) == 2", True),
    "ensure": ([], "value = sqnsupgrade.ensure(URL, 41065, sha256=SHA, record=None, port=pty, alive=alive)['ok']", True),
    "ensure_wdt": ([], "wdt = WDT()\nalive = wdt.alive\n"
                   "value = sqnsupgrade.ensure(URL, 41065, record=None, port=pty, wdt=wdt, load_fff=False)['ok']", True),
    "failing_cut_on_the_fly": ([], "value = sqnsupgrade.run(CUT, port=pty, load_fff=False, alive=alive)", False),
    "failing_silent_modem": (["--fault", "silent"], "value = sqnsupgrade.state(port=pty, alive=alive) is not None", False),
}


@pytest.mark.parametrize("flow", sorted(FLOWS))
def test_the_alive_callable_is_never_starved(tmp_path, image, http, flow):
    sim_args, code_text, ok = FLOWS[flow]
    data = image.read_bytes()
    http.file("/cut.dup", data, cut_once=300_000)
    elf = make_elf(tmp_path)
    names = {"URL": http.url(IMAGE), "CUT": http.url("/cut.dup"), "SHA": sha(data),
             "PATH": str(image), "ELF": str(elf)}
    code_text = re.sub(r"\b(URL|CUT|SHA|PATH|ELF)\b", lambda m: repr(names[m.group(1)]), code_text)
    # `alive` records its calls from here to after the call (the scenario's last call).
    code_text = "import time\nalive.last = time.ticks_ms()\n" + code_text
    with Sim(tmp_path / "sim", *sim_args) as sim:
        code, out, t = call(tmp_path, sim, code_text)
    assert code == 0 and t["value"] is ok, out
    assert_alive(t, out)


# ---- docs/BOARD.md's main.py ----------------------------------------------------------

EXAMPLE = REPO / "tests" / "micropython" / "main_example.py"


def test_board_md_shows_the_main_py_the_test_runs():
    text = (REPO / "docs" / "BOARD.md").read_text()
    example = EXAMPLE.read_text()
    assert "```python\n" + example + "```\n" in text, "docs/BOARD.md must include %s verbatim" % EXAMPLE.name


def test_the_deployed_main_py_updates_once_under_a_watchdog(tmp_path, image, http):
    data = image.read_bytes()
    example = EXAMPLE.read_text()
    # Only the settings change: this server's URL and this image's digest.
    main = re.sub(r"^IMAGE = .*$", "IMAGE = %r" % http.url(IMAGE), example, flags=re.M)
    main = re.sub(r"^SHA256 = .*$", "SHA256 = %r" % sha(data), main, flags=re.M)
    changed = [a for a, b in zip(example.splitlines(), main.splitlines()) if a != b]
    assert len(changed) == 2 and len(example.splitlines()) == len(main.splitlines()), changed
    (tmp_path / "main.py").write_text(main)
    flash = tmp_path / "flash"
    flash.mkdir()
    env = dict(os.environ, MICROPYPATH="%s:%s" % (REPO / "python_shim", REPO / "tests" / "micropython"))
    runs = []
    with Sim(tmp_path / "sim") as sim:
        env["SQN_MODEM"] = sim.pty
        for boot in range(2):
            done = subprocess.run([MICROPYTHON, str(REPO / "tests" / "micropython" / "run_main.py"),
                                   str(tmp_path / "main.py"), str(flash)],
                                  capture_output=True, text=True, timeout=240, env=env)
            out = done.stdout + done.stderr
            assert done.returncode == 0, out
            tags = dict(line[2:].split("=", 1) for line in done.stdout.splitlines() if line.startswith("@@"))
            runs.append((out, {k: eval(v) for k, v in tags.items()}))  # noqa: S307 - our own output
    (out1, t1), (out2, t2) = runs
    # First boot: the update, over the board's own UART 1 (GPy pins), the watchdog fed.
    assert ">>> GPy with firmware version 1.20.2.r6" in out1 and "Upgrade completed!" in out1, out1
    assert t1["result"]["ok"] and t1["result"]["build_after"] == 41065, out1
    assert last_transfer_bytes(sim.log) == data and len(sim.log["transfers"]) == 1
    feeds, gap = t1["wdt"]
    assert feeds > 1 and gap < ALIVE_MS, t1["wdt"]
    assert t1["lte"] == 1, "the UART is given back to the LTE driver"
    rec = json.loads((flash / "sqnsupgrade.json").read_text())
    assert rec["tries"] == 1 and rec["status"] == 0 and rec["target"] == 41065, rec
    # Second boot: nothing to do.
    assert "The modem already runs build 41065: nothing to do." in out2, out2
    assert t2["result"]["command"] == "ensure" and t2["wdt"][1] < ALIVE_MS
    assert sim.log["violations"] == []

#!/usr/bin/env python3
"""Tests for docs/ci/: each template is parsed (YAML by python3-yaml, the Jenkinsfile by its sh steps) and
checked for what a rig farm relies on, then its bootrig commands are run as its CI engine would run them,
against a simulated rig. The three jobs run at once on the same rig: bootrig's lock makes them take turns."""

import argparse
import fcntl
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import xml.etree.ElementTree as ET

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
DOCS = os.path.join(HERE, "..", "..", "docs", "ci")
BOOTRIG = None


def load_yaml(name):
    with open(os.path.join(DOCS, name), encoding="utf-8") as f:
        return yaml.safe_load(f)


def jenkins_text():
    with open(os.path.join(DOCS, "Jenkinsfile"), encoding="utf-8") as f:
        return f.read()


def gitlab_job():
    doc = load_yaml("gitlab-ci.yml")
    return doc, doc["bootrig-hil"]


def github_job():
    doc = load_yaml("github-actions.yml")
    return doc, doc["jobs"]["hil"]


def jenkins_environment(text):
    block = re.search(r"environment\s*\{(.*?)\}", text, re.S).group(1)
    return dict(re.findall(r"(\w+)\s*=\s*'([^']*)'", block))


def jenkins_commands(text):
    return re.findall(r"^\s*sh '([^']*)'\s*$", text, re.M)


class Structure(unittest.TestCase):
    def test_gitlab_job_has_tags_a_resource_group_junit_and_the_run_folder(self):
        doc, job = gitlab_job()
        self.assertIn("pi", job["tags"])
        self.assertTrue(job["resource_group"].startswith("rig-"))
        self.assertEqual(job["artifacts"]["when"], "always")
        self.assertEqual(job["artifacts"]["reports"]["junit"], "junit.xml")
        self.assertIn(doc["variables"]["BOOTRIG_OUT"] + "/", job["artifacts"]["paths"])
        self.assertTrue(any("report.html" in line for line in job["after_script"]))
        self.assertTrue(any("--wait-lock" in line for line in job["script"]))

    def test_github_job_runs_self_hosted_in_one_group_per_rig_and_keeps_its_evidence(self):
        doc, job = github_job()
        self.assertIn("self-hosted", job["runs-on"])
        self.assertTrue(doc["concurrency"]["group"].startswith("rig-"))
        self.assertFalse(doc["concurrency"]["cancel-in-progress"])
        uploads = [s for s in job["steps"] if s.get("uses", "").startswith("actions/upload-artifact@")]
        self.assertEqual(len(uploads), 1)
        self.assertEqual(uploads[0]["if"], "always()")
        self.assertIn("junit.xml", uploads[0]["with"]["path"])
        self.assertIn(job["env"]["BOOTRIG_OUT"] + "/", uploads[0]["with"]["path"])

    def test_jenkins_pipeline_locks_the_rig_and_publishes_junit_artifacts_and_report(self):
        text = jenkins_text()
        self.assertRegex(text, r"lock\(resource: 'rig-[\w-]+'\)")
        self.assertRegex(text, r"junit testResults: 'junit\.xml'")
        self.assertRegex(text, r"archiveArtifacts artifacts: 'bootrig-run/\*\*'")
        self.assertRegex(text, r"reportFiles: 'report\.html'")
        self.assertEqual(text.count("{"), text.count("}"))
        self.assertTrue(jenkins_commands(text))


class RunsAgainstTheSimulatedRig(unittest.TestCase):
    """Each template's commands in its own workspace, with the environment its engine would give them."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="bootrig-ci-templates-")
        self.rig = os.path.join(self.tmp, "rig.toml")
        with open(self.rig, "w", encoding="utf-8") as f:
            f.write('[rig]\nkind = "sim"\nname = "ci-template"\nlock = "rig.lock"\n')

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def workspace(self, name, variables, extra):
        ws = os.path.join(self.tmp, name)
        os.makedirs(ws)
        env = dict(os.environ)
        env.update({k: str(v) for k, v in variables.items()})
        # The Pi's rig file becomes the simulated one; one quick scenario, as a pipeline may narrow the run.
        env["BOOTRIG_RIG"] = self.rig
        env["BOOTRIG_RUN_ARGS"] = "hard-reset-pin"
        env["PATH"] = os.path.dirname(os.path.abspath(BOOTRIG)) + os.pathsep + env["PATH"]
        env.update(extra)
        return ws, env

    def run_commands(self, ws, env, commands, results, key):
        # The job's log is written as it goes, so that the test can see where the job is.
        log_path = os.path.join(ws, "job.log")
        code = 0
        with open(log_path, "w", encoding="utf-8") as log:
            for cmd in commands:
                if not isinstance(cmd, str):
                    log.write("not a command line (the YAML made it a %s): %r\n" % (type(cmd).__name__, cmd))
                    code = 99
                    break
                log.write("$ %s\n" % cmd)
                log.flush()
                code = subprocess.run(["bash", "-e", "-c", cmd], cwd=ws, env=env, stdout=log,
                                      stderr=subprocess.STDOUT, timeout=1500).returncode
                if code != 0:
                    break
        with open(log_path, encoding="utf-8") as log:
            results[key] = (code, log.read())

    def check_evidence(self, ws, out_dir):
        junit = ET.parse(os.path.join(ws, "junit.xml")).getroot()
        suites = [junit] if junit.tag == "testsuite" else list(junit.iter("testsuite"))
        self.assertEqual(sum(int(s.get("tests")) for s in suites), 1)
        self.assertEqual(sum(int(s.get("failures")) + int(s.get("errors", 0)) for s in suites), 0)
        self.assertTrue(os.path.isfile(os.path.join(ws, out_dir, "summary.txt")))
        self.assertTrue(os.path.isfile(os.path.join(ws, out_dir, "results.json")))

    def test_the_three_jobs_at_once_take_turns_on_the_rig_and_pass(self):
        gdoc, gjob = gitlab_job()
        hdoc, hjob = github_job()
        jtext = jenkins_text()
        summary = os.path.join(self.tmp, "step-summary.md")
        jobs = {
            "gitlab": self.workspace("gitlab", gdoc["variables"],
                                     {"CI_JOB_ID": "1001", "CI_JOB_URL": "https://gitlab.invalid/job/1001"})
            + (gjob["script"] + gjob["after_script"], gdoc["variables"]["BOOTRIG_OUT"]),
            "github": self.workspace("github", hjob["env"],
                                     {"GITHUB_RUN_ID": "2002", "GITHUB_JOB": "hil", "GITHUB_STEP_SUMMARY": summary})
            + ([s["run"] for s in hjob["steps"] if "run" in s], hjob["env"]["BOOTRIG_OUT"]),
            "jenkins": self.workspace("jenkins", jenkins_environment(jtext), {"BUILD_TAG": "jenkins-bootrig-3003"})
            + (jenkins_commands(jtext), jenkins_environment(jtext)["BOOTRIG_OUT"]),
        }
        results = {}
        threads = [threading.Thread(target=self.run_commands, args=(ws, env, cmds, results, name))
                   for name, (ws, env, cmds, _) in jobs.items()]
        # The rig is busy when the jobs start (this test holds its lock, as another job would): each must
        # wait, naming the holder, and run once the rig is free. Released on that evidence, not after a time.
        lock = open(os.path.join(self.tmp, "rig.lock"), "w", encoding="utf-8")
        fcntl.flock(lock, fcntl.LOCK_EX)
        lock.write("pid=%d\nuser=test\njob=9999 (the test)\nsince=now\nrig=ci-template\n" % os.getpid())
        lock.flush()
        for t in threads:
            t.start()
        waiting = "rig ci-template is in use by pid %d, user test, CI job 9999 (the test)" % os.getpid()
        deadline = time.monotonic() + 1200  # a guard against a hang, not a timing check
        while time.monotonic() < deadline:
            logs = []
            for name, (ws, _, _, _) in jobs.items():
                try:
                    with open(os.path.join(ws, "job.log"), encoding="utf-8") as f:
                        logs.append(f.read())
                except FileNotFoundError:
                    logs.append("")
            if all(waiting in log for log in logs) or len(results) == len(jobs):
                break
            time.sleep(0.2)
        fcntl.flock(lock, fcntl.LOCK_UN)
        lock.close()
        for t in threads:
            t.join()
        for name, (ws, _, _, out_dir) in jobs.items():
            code, log = results[name]
            self.assertEqual(code, 0, "%s job failed:\n%s" % (name, log))
            self.check_evidence(ws, out_dir)
        with open(summary, encoding="utf-8") as f:
            self.assertIn("report.html", f.read())
        for name, (code, log) in results.items():
            self.assertIn(waiting, log, "%s job did not wait for the busy rig" % name)


def main():
    global BOOTRIG
    parser = argparse.ArgumentParser()
    parser.add_argument("--bootrig", required=True)
    args, rest = parser.parse_known_args()
    BOOTRIG = args.bootrig
    unittest.main(argv=[sys.argv[0]] + rest, verbosity=2)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Checks docker/kubernetes/*.yaml and docker/compose.yaml without a cluster: every document
parses and carries what a cluster would refuse it without (apiVersion, kind, names, a
Deployment's selector matching its pods), and what this project promises of them: probes on
/healthz at a port portico listens on, served by `SetHandler health` in the config the
ConfigMap holds; that config passing `portico -t` (its certificate, key and paths swapped
for test ones); preStop, terminationGracePeriodSeconds above preStop + GracefulShutdownTimeout;
resources on every container; Services, the autoscaler and the disruption budget pointing
at what exists; the balancer's member naming the headless Service with resolve=.
Usage: check_k8s.py SOURCE_DIR PORTICO_BIN"""
import os
import re
import subprocess
import sys
import tempfile

import yaml

errors = []


def err(where, msg):
    errors.append(f"{where}: {msg}")


def load(path):
    with open(path) as f:
        docs = [d for d in yaml.safe_load_all(f) if d is not None]
    for i, d in enumerate(docs):
        where = f"{os.path.basename(path)}[{i}]"
        for key in ("apiVersion", "kind"):
            if not d.get(key):
                err(where, f"no {key}")
        if not (d.get("metadata") or {}).get("name"):
            err(where, "no metadata.name")
    return docs


def by_kind(docs, kind):
    return {d["metadata"]["name"]: d for d in docs if d.get("kind") == kind}


def matches(selector, labels):
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def directives(conf, name):
    """Arguments of every `name` line of an httpd.conf text (quotes removed)."""
    out = []
    for line in conf.splitlines():
        words = line.strip().split(None, 1)
        if words and words[0].lower() == name.lower():
            out.append((words[1] if len(words) > 1 else "").strip())
    return out


def listen_ports(conf):
    return {int(re.sub(r"\s.*$", "", a).rsplit(":", 1)[-1]) for a in directives(conf, "Listen")}


def health_locations(conf):
    """Paths of <Location> sections whose handler is health."""
    found = set()
    for m in re.finditer(r'<Location\s+"?([^">]+)"?>(.*?)</Location>', conf, re.S | re.I):
        if re.search(r"^\s*SetHandler\s+health\s*$", m.group(2), re.M | re.I):
            found.add(m.group(1))
    return found


def portico_t(where, conf, portico):
    """`portico -t` on the ConfigMap's config, its files swapped for test ones."""
    with tempfile.TemporaryDirectory() as d:
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                        "-subj", "/CN=localhost", "-keyout", f"{d}/tls.key", "-out",
                        f"{d}/tls.crt"], check=True, capture_output=True)
        with open(f"{d}/ticket.key", "wb") as f:
            f.write(os.urandom(48))
        os.makedirs(f"{d}/html")
        swaps = {"/etc/portico/tls/": f"{d}/", "/etc/portico/ticket/": f"{d}/",
                 "/var/www/html": f"{d}/html", "/run/portico/": f"{d}/"}
        for old, new in swaps.items():
            conf = conf.replace(old, new)
        with open(f"{d}/portico.conf", "w") as f:
            f.write(conf)
        r = subprocess.run([portico, "-t", "-f", f"{d}/portico.conf"], capture_output=True,
                           text=True, timeout=60)
        if r.returncode != 0:
            err(where, f"portico -t: {(r.stderr + r.stdout).strip()}")


def seconds_of_prestop(container):
    cmd = (((container.get("lifecycle") or {}).get("preStop") or {}).get("exec") or {}).get("command")
    if not cmd or cmd[0] != "sleep":
        return None
    return int(cmd[1])


def check_portico_container(where, pod, c, configmaps, portico):
    ports = {p["name"]: p["containerPort"] for p in c.get("ports", [])}
    mounts = {m["name"]: m["mountPath"] for m in c.get("volumeMounts", [])}
    volumes = {v["name"]: v for v in pod.get("volumes", [])}
    for name in mounts:
        if name not in volumes:
            err(where, f"volumeMount {name} has no volume")
    # The config: the -f file of the command, from a mounted ConfigMap.
    cmd = c.get("command") or []
    if "-f" not in cmd:
        err(where, "the command names no -f config")
        return
    conf_path = cmd[cmd.index("-f") + 1]
    conf = None
    for vname, mpath in mounts.items():
        cm = (volumes.get(vname) or {}).get("configMap")
        if cm and conf_path.startswith(mpath.rstrip("/") + "/"):
            key = conf_path[len(mpath.rstrip("/")) + 1:]
            conf = (configmaps.get(cm["name"]) or {}).get("data", {}).get(key)
    if conf is None:
        err(where, f"{conf_path} is in no mounted ConfigMap")
        return
    listening = listen_ports(conf)
    healthy = health_locations(conf)
    for probe in ("readinessProbe", "livenessProbe"):
        get = (c.get(probe) or {}).get("httpGet")
        if not get:
            err(where, f"no {probe} httpGet")
            continue
        port = ports.get(get["port"], get["port"])
        if port not in listening:
            err(where, f"{probe} port {port} is not a Listen port of the config {sorted(listening)}")
        if get["path"] not in healthy:
            err(where, f"{probe} path {get['path']} is not a SetHandler health location")
    for name, port in ports.items():
        if port not in listening:
            err(where, f"containerPort {name}={port} is not a Listen port")
    gst = directives(conf, "GracefulShutdownTimeout")
    pre = seconds_of_prestop(c)
    grace = pod.get("terminationGracePeriodSeconds")
    if pre is None:
        err(where, "no preStop sleep (the endpoint-propagation delay)")
    elif not gst or int(gst[0]) <= 0:
        err(where, "no GracefulShutdownTimeout: SIGTERM's drain would be unbounded")
    elif grace is None or grace <= pre + int(gst[0]):
        err(where, f"terminationGracePeriodSeconds {grace} is not above preStop {pre} + "
                   f"GracefulShutdownTimeout {gst[0]}")
    # Files the config names come from the mounted Secrets.
    for d in ("SSLCertificateFile", "SSLCertificateKeyFile", "SSLSessionTicketKeyFile"):
        for path in directives(conf, d):
            path = path.strip('"')
            vol = next((volumes.get(n) for n, m in mounts.items()
                        if path.startswith(m.rstrip("/") + "/")), None)
            if not vol or "secret" not in vol:
                err(where, f"{d} {path} is not in a mounted Secret")
    portico_t(where, conf, portico)
    return conf


def check_deployments(path, docs, portico):
    configmaps = by_kind(docs, "ConfigMap")
    confs = {}
    for name, dep in by_kind(docs, "Deployment").items():
        where = f"{os.path.basename(path)} Deployment/{name}"
        tmpl = dep["spec"]["template"]
        labels = tmpl["metadata"].get("labels", {})
        if not matches(dep["spec"]["selector"].get("matchLabels"), labels):
            err(where, "selector does not match the pod's labels")
        pod = tmpl["spec"]
        for c in pod.get("initContainers", []) + pod["containers"]:
            if not c.get("image"):
                err(where, f"container {c['name']} has no image")
        for c in pod["containers"]:
            res = c.get("resources") or {}
            for kind in ("requests", "limits"):
                for r in ("cpu", "memory"):
                    if r not in (res.get(kind) or {}):
                        err(where, f"container {c['name']}: no resources.{kind}.{r}")
        portico = [c for c in pod["containers"] if c["name"] == "portico"]
        if not portico:
            err(where, "no portico container")
            continue
        confs[name] = check_portico_container(where, pod, portico[0], configmaps, portico_bin)
        for c in pod["containers"]:
            if c is not portico[0] and c.get("lifecycle", {}).get("preStop") is not None:
                # A sidecar that SIGTERM stops at once must outlive portico's drain.
                if seconds_of_prestop(c) < seconds_of_prestop(portico[0]) + int(
                        directives(confs[name] or "", "GracefulShutdownTimeout")[0] or 0):
                    err(where, f"container {c['name']} stops before portico's drain ends")
    return confs


def check_services(path, all_docs):
    pods = {}
    for d in all_docs:
        if d.get("kind") == "Deployment":
            pods[d["metadata"]["name"]] = d["spec"]["template"]
    for d in all_docs:
        kind, name = d.get("kind"), d["metadata"]["name"]
        where = f"{os.path.basename(path)} {kind}/{name}"
        if kind == "Service":
            targets = [t for t in pods.values() if matches(d["spec"].get("selector"), t["metadata"]["labels"])]
            if not targets:
                err(where, "its selector matches no Deployment's pods")
            for p in d["spec"]["ports"]:
                names = {cp.get("name") for t in targets for c in t["spec"]["containers"]
                         for cp in c.get("ports", [])}
                nums = {cp["containerPort"] for t in targets for c in t["spec"]["containers"]
                        for cp in c.get("ports", [])}
                tp = p.get("targetPort", p["port"])
                if tp not in names and tp not in nums:
                    err(where, f"targetPort {tp} is no container port")
        elif kind == "HorizontalPodAutoscaler":
            ref = d["spec"]["scaleTargetRef"]
            if ref["kind"] != "Deployment" or ref["name"] not in pods:
                err(where, f"scales {ref['kind']}/{ref['name']}, which is not here")
            elif not any(m.get("resource", {}).get("name") == "cpu" for m in d["spec"]["metrics"]):
                err(where, "no CPU metric")
        elif kind == "PodDisruptionBudget":
            sel = d["spec"]["selector"]["matchLabels"]
            if not any(matches(sel, t["metadata"]["labels"]) for t in pods.values()):
                err(where, "its selector matches no pods")


def check_balancer(path, docs, confs, all_docs):
    services = {d["metadata"]["name"]: d for d in all_docs if d.get("kind") == "Service"}
    for name, conf in confs.items():
        if not conf or "balancer://" not in conf:
            continue
        where = f"{os.path.basename(path)} Deployment/{name}"
        for m in directives(conf, "BalancerMember"):
            mm = re.match(r'"?https?://([a-z0-9-]+)\.([a-z0-9-]+)\.svc\.cluster\.local:(\d+)"?\s+(.*)', m)
            if not mm:
                err(where, f"BalancerMember {m} names no Service in full")
                continue
            svc = services.get(mm.group(1))
            if not svc:
                err(where, f"BalancerMember names Service {mm.group(1)}, not defined")
            elif svc["spec"].get("clusterIP") != "None":
                err(where, f"Service {mm.group(1)} is not headless: its name has one address")
            elif int(mm.group(3)) not in [p["port"] for p in svc["spec"]["ports"]]:
                err(where, f"port {mm.group(3)} is not a port of Service {mm.group(1)}")
            if not re.search(r"\bresolve=\d+", mm.group(4)):
                err(where, "the member has no resolve=: pods that come and go would not be seen")


def check_compose(path):
    with open(path) as f:
        c = yaml.safe_load(f)
    s = c.get("services") or {}
    for name, svc in s.items():
        if not svc.get("image") and not svc.get("build"):
            err(f"compose {name}", "no image and no build")
    web = [n for n, v in s.items() if v.get("image", "").startswith("portico")]
    if "php" not in s or s["php"].get("image") != "php:8.2-fpm":
        err("compose", "no php:8.2-fpm service")
    if not any("TLS" in (s[n].get("command") or []) for n in web):
        err("compose", "no TLS variant (-D TLS)")
    if not any("BALANCER" in (s[n].get("command") or []) for n in web):
        err("compose", "no balancer variant (-D BALANCER)")


if __name__ == "__main__":
    src, portico_bin = sys.argv[1], sys.argv[2]
    kdir = os.path.join(src, "docker", "kubernetes")
    files = sorted(os.path.join(kdir, f) for f in os.listdir(kdir) if f.endswith(".yaml"))
    loaded = {f: load(f) for f in files}
    all_docs = [d for docs in loaded.values() for d in docs]
    for f, docs in loaded.items():
        confs = check_deployments(f, docs, portico_bin)
        check_services(f, all_docs if f.endswith("load-balancer.yaml") else docs)
        check_balancer(f, docs, confs, all_docs)
    check_compose(os.path.join(src, "docker", "compose.yaml"))
    for e in errors:
        print("FAIL", e)
    print(f"checked {len(files)} manifests, {len(all_docs)} documents, and compose.yaml: "
          f"{len(errors)} problem(s)")
    sys.exit(1 if errors else 0)

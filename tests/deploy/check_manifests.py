#!/usr/bin/python3
"""Policy and consistency checks over the rendered overlays of deploy/k8s.

Usage: check_manifests.py REPO_ROOT METRICS_DUMP_BINARY RENDERED_OVERLAY.yaml... -- SERVICE_BINARY...

Each rendered overlay (kustomize build output) must
  - meet the restricted Pod Security Standard in every pod template, with probes, requests and
    limits on every container, a read-only root filesystem and Secrets only as files;
  - describe what the binaries actually do: the command exists, every JILAF_* variable and every
    flag is one the binary's --help lists, the ports (flag or default) are the containerPorts the
    Services, probes and ServiceMonitors name, probe paths are the admin endpoints, the grace
    period covers preStop + drain + the relay's flush, file paths sit on the right mounts;
  - declare a KafkaTopic for every topic of scripts/kafka/topics.txt (same partitions, and the
    same topic configs, retention.ms and cleanup.policy);
  - use only metric families the services register (jilaf-metrics-dump) in its PrometheusRule and
    Grafana dashboard;
  - in prod, route traffic from outside only through Ingresses whose hosts a cert-manager
    Certificate covers, whose backends are the Services' API ports (never the admin port), and
    whose public host carries only routes the OpenAPI documents declare public (`security: []`);
    allow CORS only from https origins, exactly as browsers send them.
Then it breaks the rendered overlays on purpose (BROKEN) and requires each rule to report its
variant, so that a rule that cannot fire is noticed. Prints every problem and exits 1 if there is
any.
"""
import copy
import json
import os
import re
import subprocess
import sys

import yaml

ADMIN_PATHS = {"/healthz", "/readyz", "/metrics"}
# Volume types the restricted Pod Security Standard allows.
RESTRICTED_VOLUMES = {"configMap", "csi", "downwardAPI", "emptyDir", "ephemeral",
                      "persistentVolumeClaim", "projected", "secret"}
RELAY_FLUSH_SECONDS = 10  # docs/operations.md: the relay flushes for up to 10 s after the drain
# Topics another branch adds to scripts/kafka/topics.txt; deploy/k8s declares them already.
EXTRA_TOPICS = {"jilaf.notifications.events": 3}

# Flags naming files that hold secrets (or trust anchors): each must sit on a Secret volume.
SECRET_FILE_FLAGS = ("jwt-public-key", "field-key-file", "database-password-file", "kafka-ca-file",
                     "kafka-cert-file", "kafka-key-file", "kafka-sasl-password-file")

problems = []


notes = set()


def note(text):
    if text not in notes:
        notes.add(text)
        print("note:", text)


def problem(where, what):
    problems.append(f"{where}: {what}")


def parse_help(binary):
    """--help → {flag: (env, default)}."""
    text = subprocess.run([binary, "--help"], capture_output=True, text=True, check=False).stdout
    flags = {}
    for m in re.finditer(r"^  --([a-z0-9-]+)[^\n]*\n(?:      [^\n]*\n)*?      env (JILAF_[A-Z0-9_]+), default '([^']*)'",
                         text, re.M):
        flags[m.group(1)] = (m.group(2), m.group(3))
    if not flags:
        problem(binary, "no flags parsed from --help")
    return flags


def pending_flags(repo):
    """tests/deploy/pending-flags.txt: `service --flag` pairs used before the binary has them."""
    pending = set()
    path = os.path.join(repo, "tests/deploy/pending-flags.txt")
    if os.path.exists(path):
        for line in open(path, encoding="utf-8"):
            line = line.split("#", 1)[0].strip()
            if line:
                service, flag = line.split()
                pending.add((service, flag.lstrip("-")))
    return pending


def probe_port_and_path(probe):
    get = (probe or {}).get("httpGet") or {}
    return get.get("port"), get.get("path")


def check_labels(doc, where):
    labels = doc["metadata"].get("labels") or {}
    for key in ("app.kubernetes.io/part-of", "app.kubernetes.io/managed-by"):
        if key not in labels:
            problem(where, f"metadata.labels lacks {key}")
    if doc["kind"] not in ("Namespace", "NetworkPolicy", "KafkaTopic", "KafkaNodePool", "Kafka") \
            and "app.kubernetes.io/name" not in labels:
        problem(where, "metadata.labels lacks app.kubernetes.io/name")


def check_pod_policy(spec, where):
    pod_sc = spec.get("securityContext") or {}
    for key in ("hostNetwork", "hostPID", "hostIPC"):
        if spec.get(key):
            problem(where, f"{key} is set")
    for volume in spec.get("volumes", []):
        kinds = set(volume) - {"name"}
        if not kinds <= RESTRICTED_VOLUMES:
            problem(where, f"volume {volume['name']} of type {kinds - RESTRICTED_VOLUMES} breaks the restricted profile")
    containers = spec.get("containers", []) + spec.get("initContainers", [])
    for c in containers:
        cw = f"{where} container {c['name']}"
        sc = c.get("securityContext") or {}
        if sc.get("allowPrivilegeEscalation") is not False:
            problem(cw, "allowPrivilegeEscalation is not false")
        if sc.get("privileged"):
            problem(cw, "privileged")
        caps = sc.get("capabilities") or {}
        if "ALL" not in (caps.get("drop") or []):
            problem(cw, "capabilities do not drop ALL")
        if set(caps.get("add") or []) - {"NET_BIND_SERVICE"}:
            problem(cw, f"adds capabilities {caps['add']}")
        if not (sc.get("runAsNonRoot") or pod_sc.get("runAsNonRoot")):
            problem(cw, "runAsNonRoot is not true")
        if sc.get("runAsUser", pod_sc.get("runAsUser")) in (0, None):
            problem(cw, "no non-zero runAsUser (the image's USER is numeric, but say it here too)")
        seccomp = (sc.get("seccompProfile") or pod_sc.get("seccompProfile") or {}).get("type")
        if seccomp not in ("RuntimeDefault", "Localhost"):
            problem(cw, "seccompProfile is not RuntimeDefault")
        if sc.get("readOnlyRootFilesystem") is not True:
            problem(cw, "root filesystem is not read-only")
        for port in c.get("ports", []):
            if "hostPort" in port:
                problem(cw, "uses a hostPort")
        resources = c.get("resources") or {}
        for kind in ("requests", "limits"):
            for res in ("cpu", "memory"):
                if res not in (resources.get(kind) or {}):
                    problem(cw, f"no {res} {kind[:-1]}")
        if c in spec.get("containers", []):
            for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
                if probe not in c:
                    problem(cw, f"no {probe}")
        for env in c.get("env", []):
            if "secretKeyRef" in (env.get("valueFrom") or {}):
                problem(cw, f"Secret as environment variable {env['name']} (mount it as a file)")
        for env_from in c.get("envFrom", []):
            if "secretRef" in env_from:
                problem(cw, "Secret as environment (envFrom); mount it as a file")
        mounts = {m["mountPath"] for m in c.get("volumeMounts", [])}
        if "/tmp" not in mounts:
            problem(cw, "read-only root filesystem but no writable /tmp (emptyDir)")


def check_service(svc_name, dep, objects, help_flags, pending, where):
    pod = dep["spec"]["template"]["spec"]
    c = pod["containers"][0]
    binary = f"jilaf-{svc_name}"
    if c.get("command") != [f"/usr/local/bin/{binary}"]:
        problem(where, f"command {c.get('command')} is not [/usr/local/bin/{binary}]")
    if binary not in help_flags:
        problem(where, f"no built binary {binary}")
        return
    flags = help_flags[binary]
    env_of_flag = {env: flag for flag, (env, _) in flags.items()}
    settings = {flag: default for flag, (_, default) in flags.items()}
    # ConfigMap (envFrom) first, then env, then args: the binary's own precedence.
    for env_from in c.get("envFrom", []):
        name = (env_from.get("configMapRef") or {}).get("name")
        cm = objects.get(("ConfigMap", name))
        if cm is None:
            problem(where, f"envFrom names a missing ConfigMap {name}")
            continue
        for key, value in (cm.get("data") or {}).items():
            if key not in env_of_flag:
                problem(where, f"ConfigMap {name} sets {key}, which {binary} does not read")
            else:
                settings[env_of_flag[key]] = value
    for env in c.get("env", []):
        if env["name"] not in env_of_flag:
            problem(where, f"env {env['name']} is not read by {binary}")
        elif "value" in env:
            settings[env_of_flag[env["name"]]] = env["value"]
    for arg in c.get("args", []):
        m = re.fullmatch(r"--([a-z0-9-]+)=(.*)", arg)
        if not m:
            problem(where, f"argument {arg!r} is not --flag=value")
            continue
        flag, value = m.groups()
        if flag in flags:
            if (svc_name, flag) in pending:
                problem(where, f"--{flag} is now a flag of {binary}: remove it from tests/deploy/pending-flags.txt")
            settings[flag] = value
        elif (svc_name, flag) in pending:
            note(f"{svc_name}: --{flag} is pending (tests/deploy/pending-flags.txt), not checked against {binary}")
            settings[flag] = value
        else:
            problem(where, f"{binary} has no flag --{flag}")

    ports = {p["name"]: p["containerPort"] for p in c.get("ports", [])}
    http_port, admin_port = int(settings["http-port"]), int(settings["admin-port"])
    if ports.get("http") != http_port:
        problem(where, f"containerPort http {ports.get('http')} but the binary listens on {http_port}")
    if ports.get("admin") != admin_port:
        problem(where, f"containerPort admin {ports.get('admin')} but the admin port is {admin_port}")
    expected_probe_path = {"startupProbe": "/healthz", "livenessProbe": "/healthz", "readinessProbe": "/readyz"}
    for probe, path in expected_probe_path.items():
        port, got_path = probe_port_and_path(c.get(probe))
        if port not in ("admin", admin_port):
            problem(where, f"{probe} is not on the admin port")
        if got_path != path:
            problem(where, f"{probe} path {got_path} is not {path}")

    # Grace period: preStop sleep + drain + the relay's final flush.
    pre_stop = ((c.get("lifecycle") or {}).get("preStop") or {})
    sleep = 0
    if "exec" in pre_stop:
        cmd = pre_stop["exec"]["command"]
        if cmd[0].endswith("sleep"):
            sleep = int(cmd[1])
    elif "sleep" in pre_stop:
        sleep = int(pre_stop["sleep"]["seconds"])
    else:
        problem(where, "no preStop delay (endpoints need a moment to drop the pod)")
    drain = int(settings["drain-timeout-ms"]) / 1000
    grace = pod.get("terminationGracePeriodSeconds", 30)
    if grace < sleep + drain + RELAY_FLUSH_SECONDS:
        problem(where, f"terminationGracePeriodSeconds {grace} < preStop {sleep} + drain {drain} + flush {RELAY_FLUSH_SECONDS}")

    # Files: the database on the data volume, secrets on secret volumes.
    volumes = {v["name"]: v for v in pod.get("volumes", [])}
    mounts = {m["mountPath"]: volumes.get(m["name"], {}) for m in c.get("volumeMounts", [])}

    def volume_of(path):
        best = None
        for mount in mounts:
            if path.startswith(mount.rstrip("/") + "/") and (best is None or len(mount) > len(best)):
                best = mount
        return mounts.get(best) if best else None

    store = settings.get("store", "sqlite")
    replicas = dep["spec"].get("replicas", 1)
    strategy = (dep["spec"].get("strategy") or {}).get("type", "RollingUpdate")
    claims = [v for v in volumes.values() if "persistentVolumeClaim" in v]
    if store == "sqlite":
        db_volume = volume_of(settings["db"])
        if not db_volume or "persistentVolumeClaim" not in db_volume:
            problem(where, f"database {settings['db']} is not on a PersistentVolumeClaim")
        else:
            claim = db_volume["persistentVolumeClaim"]["claimName"]
            if ("PersistentVolumeClaim", claim) not in objects:
                problem(where, f"PersistentVolumeClaim {claim} is not in the overlay")
        if replicas != 1 or strategy != "Recreate":
            problem(where, "a SQLite store allows one writer: replicas 1 and strategy Recreate")
    elif store == "postgres":
        if not settings.get("database-url"):
            problem(where, "--store=postgres without --database-url")
        if not settings.get("database-password-file"):
            problem(where, "--store=postgres without --database-password-file")
        if claims:
            problem(where, f"stateless on PostgreSQL, yet it mounts PersistentVolumeClaim "
                           f"{claims[0]['persistentVolumeClaim']['claimName']}")
        if replicas < 2 or strategy != "RollingUpdate":
            problem(where, f"stateless on PostgreSQL: replicas 2 or more and RollingUpdate "
                           f"(replicas {replicas}, {strategy})")
    else:
        problem(where, f"--store {store!r} is neither sqlite nor postgres")
    for flag in SECRET_FILE_FLAGS:
        if settings.get(flag):
            volume = volume_of(settings[flag])
            if not volume or "secret" not in volume:
                problem(where, f"--{flag} {settings[flag]} is not on a Secret volume")
    if not settings.get("jwt-public-key"):
        problem(where, "--jwt-public-key is required and not set")

    # Service, ServiceMonitor, ServiceAccount, NetworkPolicy.
    svc = objects.get(("Service", svc_name))
    pod_labels = dep["spec"]["template"]["metadata"]["labels"]
    if svc is None:
        problem(where, f"no Service {svc_name}")
    else:
        if not all(pod_labels.get(k) == v for k, v in svc["spec"]["selector"].items()):
            problem(where, "the Service selector does not match the pod labels")
        named = {p["name"]: p for p in svc["spec"]["ports"]}
        for name, target, port in (("http", "http", http_port), ("metrics", "admin", admin_port)):
            if name not in named:
                problem(where, f"Service has no port named {name}")
            elif named[name].get("targetPort") not in (target, port):
                problem(where, f"Service port {name} targets {named[name].get('targetPort')}, not {target}")
    monitor = objects.get(("ServiceMonitor", svc_name))
    if monitor is None:
        problem(where, f"no ServiceMonitor {svc_name}")
    else:
        for endpoint in monitor["spec"]["endpoints"]:
            if endpoint.get("port") != "metrics" or endpoint.get("path", "/metrics") != "/metrics":
                problem(where, "ServiceMonitor does not scrape port metrics at /metrics")
        if svc and not all((svc["metadata"].get("labels") or {}).get(k) == v
                           for k, v in monitor["spec"]["selector"]["matchLabels"].items()):
            problem(where, "ServiceMonitor selector does not match the Service labels")
    if ("ServiceAccount", pod.get("serviceAccountName")) not in objects:
        problem(where, f"ServiceAccount {pod.get('serviceAccountName')} is not in the overlay")
    policies = [p for (kind, _), p in objects.items() if kind == "NetworkPolicy"
                and all(pod_labels.get(k) == v for k, v in p["spec"]["podSelector"].get("matchLabels", {}).items())]
    if not any(p["spec"]["podSelector"].get("matchLabels") == {"app.kubernetes.io/component": "service"}
               and set(p["spec"].get("policyTypes", [])) == {"Ingress", "Egress"} for p in policies):
        problem(where, "no default-deny NetworkPolicy (Ingress and Egress) selects the pod")
    allowed_ports = {port["port"] for p in policies for rule in p["spec"].get("ingress", [])
                     for port in rule.get("ports", [])}
    if {http_port, admin_port} - allowed_ports:
        problem(where, f"NetworkPolicies do not admit ports {sorted({http_port, admin_port} - allowed_ports)}")
    return settings


# Webhook egress (HTTPS) may reach public addresses only (issue 19): these ranges must be excluded.
INTERNAL_V4 = {"0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16",
               "172.16.0.0/12", "192.168.0.0/16"}


def check_webhook_egress(objects, settings_by_service, overlay):
    for (kind, name), policy in objects.items():
        if kind != "NetworkPolicy":
            continue
        for rule in policy["spec"].get("egress", []):
            if 443 not in {port.get("port") for port in rule.get("ports", [])}:
                continue
            for peer in rule.get("to", []):
                block = peer.get("ipBlock")
                if block is None:
                    continue
                missing = INTERNAL_V4 - set(block.get("except", []))
                if missing:
                    problem(overlay, f"NetworkPolicy/{name}: egress to 443 through {block['cidr']} "
                                     f"does not exclude {sorted(missing)}")
    for service, settings in settings_by_service.items():
        if settings and settings.get("webhook-dev-hosts"):
            problem(overlay, f"{service}: --webhook-dev-hosts is for development, not a deployment")


def check_topics(repo, objects, overlay):
    wanted = dict(EXTRA_TOPICS)
    wanted_config = {}
    for line in open(os.path.join(repo, "scripts/kafka/topics.txt"), encoding="utf-8"):
        fields = line.split("#", 1)[0].split()
        if len(fields) >= 2:
            wanted[fields[0]] = int(fields[1])
            # NAME PARTITIONS [CONFIG=VALUE ...]: retention and clean-up must match (docs/events.md)
            wanted_config[fields[0]] = dict(field.split("=", 1) for field in fields[2:])
    topics = {name: doc for (kind, name), doc in objects.items() if kind == "KafkaTopic"}
    for topic, partitions in wanted.items():
        doc = topics.get(topic)
        if doc is None:
            problem(overlay, f"no KafkaTopic {topic}")
            continue
        spec = doc["spec"]
        if spec.get("topicName", topic) != topic or spec.get("partitions") != partitions:
            problem(overlay, f"KafkaTopic {topic}: {spec.get('partitions')} partitions, topics.txt says {partitions}")
        config = spec.get("config") or {}
        for key, value in wanted_config.get(topic, {}).items():
            if str(config.get(key)) != value:
                problem(overlay, f"KafkaTopic {topic}: {key} is {config.get(key)}, topics.txt says {value}")
        for key in ("retention.ms", "min.insync.replicas"):
            if key not in config:
                problem(overlay, f"KafkaTopic {topic} does not set {key}")
        if int(config.get("min.insync.replicas", 1)) > spec.get("replicas", 1):
            problem(overlay, f"KafkaTopic {topic}: min.insync.replicas above replicas")
        if spec.get("replicas", 1) > 1 and int(config.get("min.insync.replicas", 1)) >= spec["replicas"]:
            problem(overlay, f"KafkaTopic {topic}: min.insync.replicas leaves no broker to lose")
    for topic in topics:
        if topic not in wanted:
            problem(overlay, f"KafkaTopic {topic} is not in scripts/kafka/topics.txt")


def check_metric_names(objects, families, overlay):
    known = set()
    for name, kind in families.items():
        known.add(name)
        if kind == "histogram":
            known |= {name + "_bucket", name + "_count", name + "_sum"}
    exprs = []
    recorded = set()
    for (kind, _), doc in objects.items():
        if kind == "PrometheusRule":
            for group in doc["spec"]["groups"]:
                for rule in group["rules"]:
                    exprs.append(rule["expr"])
                    if "record" in rule:
                        recorded.add(rule["record"])
        if kind == "ConfigMap" and "grafana_dashboard" in (doc["metadata"].get("labels") or {}):
            for text in doc["data"].values():
                dashboard = json.loads(text)
                rows = [p for p in dashboard["panels"] if p["type"] == "row"]
                for panel in dashboard["panels"]:
                    for target in panel.get("targets", []):
                        exprs.append(target["expr"])
                services = {r["title"] for r in rows}
                if services != {"invitations", "projects", "missions", "notifications"}:
                    problem(overlay, f"dashboard rows {sorted(services)} are not one per service")
    if not exprs:
        problem(overlay, "no PrometheusRule or dashboard found")
    for expr in exprs:
        for name in re.findall(r"\b(jilaf_[a-z_]+|[a-z_]+:jilaf_[a-z0-9_:]+)", expr):
            if name not in known and name not in recorded:
                problem(overlay, f"unknown metric {name} in {expr.strip()[:80]}")


# An origin as browsers serialise it (docs/api.md, "Browsers (CORS)"); https only in a deployment.
ORIGIN = re.compile(r"https://[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*(:[0-9]{1,5})?")


def openapi_public(repo, service, path, exact):
    """True if every operation under `path` (one path, or a prefix) needs no token."""
    document = json.load(open(os.path.join(repo, "services", service, "openapi.json"), encoding="utf-8"))
    matched = [item for p, item in document["paths"].items()
               if (p == path if exact else (p == path or p.startswith(path.rstrip("/") + "/")))]
    operations = [op for item in matched for m, op in item.items()
                  if m in ("get", "put", "post", "delete", "patch", "head", "options")]
    return bool(operations) and all(op.get("security") == [] for op in operations)


def check_ingress(repo, objects, overlay):
    ingresses = [d for (kind, _), d in objects.items() if kind == "Ingress"]
    if overlay.startswith("prod") and len(ingresses) < 2:
        problem(overlay, "prod needs the APIs' Ingress and the public routes' Ingress")
    certificates = [d for (kind, _), d in objects.items() if kind == "Certificate"]
    for ing in ingresses:
        where = f"{overlay} Ingress/{ing['metadata']['name']}"
        spec = ing["spec"]
        if not spec.get("ingressClassName"):
            problem(where, "no ingressClassName")
        tls_hosts = {}
        for tls in spec.get("tls", []):
            for host in tls.get("hosts", []):
                tls_hosts[host] = tls.get("secretName")
        public = (ing["metadata"].get("labels") or {}).get("app.kubernetes.io/name") == "jilaf-public"
        for rule in spec.get("rules", []):
            host = rule.get("host")
            secret = tls_hosts.get(host)
            if secret is None:
                problem(where, f"host {host} is served without TLS")
            elif not any(c["spec"]["secretName"] == secret and host in c["spec"].get("dnsNames", [])
                         for c in certificates):
                problem(where, f"no Certificate writes {secret} for {host}")
            for path in rule["http"]["paths"]:
                backend = path["backend"]["service"]
                svc = objects.get(("Service", backend["name"]))
                if svc is None:
                    problem(where, f"backend Service {backend['name']} does not exist")
                    continue
                port = backend["port"]
                ports = [p for p in svc["spec"]["ports"]
                         if p.get("name") == port.get("name") or p.get("port") == port.get("number")]
                if not ports:
                    problem(where, f"Service {backend['name']} has no port {port}")
                elif ports[0].get("targetPort") != "http":
                    problem(where, f"{host}{path['path']} reaches {backend['name']}'s "
                                   f"{ports[0].get('targetPort')} port, not its API port")
                if public and not openapi_public(repo, backend["name"], path["path"],
                                                 path["pathType"] == "Exact"):
                    problem(where, f"{path['path']} is on the public host, but "
                                   f"services/{backend['name']}/openapi.json does not declare "
                                   "every operation there public (security: [])")
    for (kind, name), doc in objects.items():
        value = (doc.get("data") or {}).get("JILAF_CORS_ALLOWED_ORIGINS") if kind == "ConfigMap" else None
        if value is None:
            continue
        for origin in [o.strip() for o in value.split(",") if o.strip()]:
            if not ORIGIN.fullmatch(origin) or origin.endswith(":443"):
                problem(f"{overlay} ConfigMap/{name}",
                        f"CORS origin {origin!r} is not an https origin as browsers send it")


def check_console(consoles, objects, overlay):
    """The staff console: one Deployment under the restricted profile, a NetworkPolicy of its
    own, and an nginx whose Content-Security-Policy allows scripts from its own origin only."""
    if len(consoles) != 1:
        problem(overlay, f"{len(consoles)} console Deployments, expected 1")
        return
    dep = consoles[0]
    where = f"{overlay} Deployment/console"
    check_pod_policy(dep["spec"]["template"]["spec"], where)
    labels = dep["spec"]["template"]["metadata"]["labels"]
    policies = [d for (kind, _), d in objects.items() if kind == "NetworkPolicy"
                and all(labels.get(k) == v for k, v in
                        (d["spec"]["podSelector"].get("matchLabels") or {}).items())
                and d["spec"]["podSelector"].get("matchLabels")
                and {"Ingress", "Egress"} <= set(d["spec"].get("policyTypes", []))]
    if not policies:
        problem(where, "no NetworkPolicy of its own (ingress and egress)")
    config = (objects.get(("ConfigMap", "console")) or {}).get("data") or {}
    csp = re.search(r'Content-Security-Policy "([^"]+)"', config.get("csp.conf", ""))
    if not csp:
        problem(where, "its ConfigMap's csp.conf sends no Content-Security-Policy")
    else:
        directives = dict((d.strip().split(" ", 1) + [""])[:2] for d in csp.group(1).split(";")
                          if d.strip())
        if directives.get("script-src") != "'self'":
            problem(where, f"script-src is {directives.get('script-src')!r}, not 'self' alone")
        for name in ("default-src", "frame-ancestors", "base-uri", "object-src"):
            if name not in directives:
                problem(where, f"the Content-Security-Policy lacks {name}")
    if "include /etc/nginx/console/csp.conf;" not in config.get("default.conf", ""):
        problem(where, "default.conf does not include the CSP")
    try:
        json.loads(config.get("config.json", ""))
    except ValueError as error:
        problem(where, f"config.json is not JSON: {error}")


def selects(selector, labels):
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def check_scaling(objects, deployments, settings_by_service, overlay):
    """PodDisruptionBudget and HorizontalPodAutoscaler: required on every service in prod (which
    runs on PostgreSQL), refused on a SQLite Deployment (one writer, one pod)."""
    budgets = [d for (kind, _), d in objects.items() if kind == "PodDisruptionBudget"]
    scalers = [d for (kind, _), d in objects.items() if kind == "HorizontalPodAutoscaler"]
    for dep in deployments:
        name = dep["metadata"]["name"]
        where = f"{overlay} {dep['kind']}/{name}"
        labels = dep["spec"]["template"]["metadata"]["labels"]
        store = (settings_by_service.get(name) or {}).get("store", "sqlite")
        pdbs = [b for b in budgets if selects(b["spec"]["selector"].get("matchLabels"), labels)]
        hpas = [h for h in scalers if h["spec"]["scaleTargetRef"].get("kind") == dep["kind"]
                and h["spec"]["scaleTargetRef"].get("name") == name]
        if store == "sqlite":
            for d in pdbs + hpas:
                problem(where, f"{d['kind']}/{d['metadata']['name']}: a SQLite store allows one "
                               "pod, so no disruption budget and no autoscaler")
            if overlay.startswith("prod"):
                problem(where, "prod runs every service on PostgreSQL (--store=postgres)")
            continue
        if overlay.startswith("prod") and not pdbs:
            problem(where, "no PodDisruptionBudget selects its pods")
        if overlay.startswith("prod") and not hpas:
            problem(where, "no HorizontalPodAutoscaler scales it")
        for pdb in pdbs:
            if "minAvailable" not in pdb["spec"] and "maxUnavailable" not in pdb["spec"]:
                problem(where, f"PodDisruptionBudget/{pdb['metadata']['name']} sets no bound")
        for hpa in hpas:
            spec = hpa["spec"]
            if spec.get("minReplicas", 1) < 2:
                problem(where, f"HorizontalPodAutoscaler/{hpa['metadata']['name']}: minReplicas below 2")
            if not any(m.get("type") == "Resource" and m["resource"]["name"] == "cpu"
                       for m in spec.get("metrics", [])):
                problem(where, f"HorizontalPodAutoscaler/{hpa['metadata']['name']} does not scale on CPU")
    for d in budgets + scalers:
        target = d["spec"].get("scaleTargetRef", {}).get("name")
        selector = d["spec"].get("selector", {}).get("matchLabels")
        if not any(dep["metadata"]["name"] == target or
                   selects(selector, dep["spec"]["template"]["metadata"]["labels"])
                   for dep in deployments):
            problem(overlay, f"{d['kind']}/{d['metadata']['name']} matches no Deployment")


def check_kafka_security(objects, settings_by_service, overlay):
    """Where the overlay's Kafka cluster authenticates its clients, every service authenticates
    as a KafkaUser of its own, on a listener that takes that authentication, and the users' ACLs
    let each write only its own topics (jilaf.<user>.events, jilaf.<user>.dlq and
    jilaf.<user>.people)."""
    clusters = [d for (kind, _), d in objects.items() if kind == "Kafka"]
    users = {name: d for (kind, name), d in objects.items() if kind == "KafkaUser"}
    if overlay.startswith("prod") and not clusters:
        problem(overlay, "prod declares no Kafka cluster")
    for cluster in clusters:
        spec = cluster["spec"]["kafka"]
        listeners = {l["port"]: l for l in spec["listeners"]}
        secured = all(l.get("tls") and l.get("authentication") for l in listeners.values())
        if overlay.startswith("prod") and not secured:
            problem(overlay, f"Kafka/{cluster['metadata']['name']}: a listener without TLS and authentication")
        if overlay.startswith("prod") and (spec.get("authorization") or {}).get("type") != "simple":
            problem(overlay, f"Kafka/{cluster['metadata']['name']}: no simple authorization (ACLs)")
        if not secured:
            continue
        for service, settings in settings_by_service.items():
            if not settings:
                continue
            where = f"{overlay} Deployment/{service}"
            port = int(settings["kafka-brokers"].split(",")[0].rsplit(":", 1)[1])
            listener = listeners.get(port)
            if listener is None:
                problem(where, f"--kafka-brokers port {port} is no listener of Kafka/{cluster['metadata']['name']}")
                continue
            if settings.get("kafka-security-protocol") != "sasl_ssl" or not settings.get("kafka-ca-file"):
                problem(where, "the Kafka listener wants TLS and SCRAM: --kafka-security-protocol=sasl_ssl "
                               "and --kafka-ca-file")
            user = settings.get("kafka-sasl-username")
            if user not in users:
                problem(where, f"--kafka-sasl-username {user!r} is no KafkaUser of the overlay")
            elif user != service:
                problem(where, f"authenticates as {user}, not as its own KafkaUser {service}")
            if not settings.get("kafka-sasl-password-file"):
                problem(where, "no --kafka-sasl-password-file")
    for name, user in users.items():
        authorization = user["spec"].get("authorization") or {}
        for acl in authorization.get("acls", []):
            resource = acl["resource"]
            operations = set(acl.get("operations") or [acl.get("operation")])
            writes = operations & {"Write", "All", "Create", "Delete", "Alter"}
            if resource["type"] == "topic" and writes and (
                    resource.get("patternType", "literal") != "literal"
                    or resource["name"] not in (f"jilaf.{name}.events", f"jilaf.{name}.dlq", f"jilaf.{name}.people")):
                problem(overlay, f"KafkaUser/{name} may {sorted(writes)} topic {resource['name']}, "
                                 "which is not its own")
            if resource["type"] == "cluster":
                problem(overlay, f"KafkaUser/{name} has cluster-wide rights {sorted(operations)}")


def check_overlay(repo, overlay, docs, help_flags, pending, families):
    objects = {(d["kind"], d["metadata"]["name"]): d for d in docs}
    namespaces = [d for d in docs if d["kind"] == "Namespace"]
    if not namespaces or any((n["metadata"].get("labels") or {}).get("pod-security.kubernetes.io/enforce") != "restricted"
                             for n in namespaces):
        problem(overlay, "the namespace does not enforce the restricted Pod Security Standard")
    for d in docs:
        check_labels(d, f"{overlay} {d['kind']}/{d['metadata']['name']}")
    workloads = [d for d in docs if d["kind"] in ("Deployment", "StatefulSet", "DaemonSet")]
    consoles = [d for d in workloads if d["metadata"]["name"] == "console"]
    deployments = [d for d in workloads if d not in consoles]
    if len(deployments) != 4:
        problem(overlay, f"{len(deployments)} workloads, expected the 4 services")
    check_console(consoles, objects, overlay)
    settings_by_service = {}
    for dep in deployments:
        where = f"{overlay} {dep['kind']}/{dep['metadata']['name']}"
        check_pod_policy(dep["spec"]["template"]["spec"], where)
        settings_by_service[dep["metadata"]["name"]] = check_service(
            dep["metadata"]["name"], dep, objects, help_flags, pending, where)
    check_webhook_egress(objects, settings_by_service, overlay)
    check_scaling(objects, deployments, settings_by_service, overlay)
    check_kafka_security(objects, settings_by_service, overlay)
    check_topics(repo, objects, overlay)
    check_ingress(repo, objects, overlay)
    check_metric_names(objects, families, overlay)


def find(docs, kind, name):
    return next(d for d in docs if d["kind"] == kind and d["metadata"]["name"] == name)


def container(docs, name):
    return find(docs, "Deployment", name)["spec"]["template"]["spec"]["containers"][0]


def set_arg(docs, service, flag, value):
    c = container(docs, service)
    c["args"] = [a for a in c["args"] if not a.startswith(f"--{flag}=")]
    if value is not None:
        c["args"].append(f"--{flag}={value}")


def back_on_sqlite(docs, service):
    set_arg(docs, service, "store", None)
    dep = find(docs, "Deployment", service)
    dep["spec"].update(replicas=1, strategy={"type": "Recreate"})
    pod = dep["spec"]["template"]["spec"]
    pod["volumes"].append({"name": "data", "persistentVolumeClaim": {"claimName": f"{service}-data"}})
    pod["containers"][0]["volumeMounts"].append({"name": "data", "mountPath": "/var/lib/jilaf"})
    docs.append({"apiVersion": "v1", "kind": "PersistentVolumeClaim",
                 "metadata": {"name": f"{service}-data"}, "spec": {}})


def scaler_for(service):
    return {"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
            "metadata": {"name": service, "labels": {}},
            "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": service},
                     "minReplicas": 2, "maxReplicas": 4,
                     "metrics": [{"type": "Resource", "resource": {"name": "cpu"}}]}}


def budget_for(service):
    return {"apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
            "metadata": {"name": service, "labels": {}},
            "spec": {"minAvailable": 1, "selector": {"matchLabels": {"app.kubernetes.io/name": service}}}}


# Broken variants of the rendered overlays, each with the problem the checks must report: they
# prove that the rules refuse what they are meant to refuse (a rule that never fires proves nothing).
BROKEN = [
    ("prod without an autoscaler", "prod",
     lambda d: d.remove(find(d, "HorizontalPodAutoscaler", "invitations")),
     "Deployment/invitations: no HorizontalPodAutoscaler scales it"),
    ("prod without a disruption budget", "prod",
     lambda d: d.remove(find(d, "PodDisruptionBudget", "projects")),
     "Deployment/projects: no PodDisruptionBudget selects its pods"),
    ("prod with one replica", "prod",
     lambda d: find(d, "Deployment", "missions")["spec"].update(replicas=1),
     "Deployment/missions: stateless on PostgreSQL: replicas 2 or more"),
    ("prod with a Recreate strategy", "prod",
     lambda d: find(d, "Deployment", "missions")["spec"].update(strategy={"type": "Recreate"}),
     "Deployment/missions: stateless on PostgreSQL: replicas 2 or more and RollingUpdate"),
    ("prod with a service back on SQLite", "prod",
     lambda d: back_on_sqlite(d, "notifications"),
     "Deployment/notifications: HorizontalPodAutoscaler/notifications: a SQLite store allows one pod"),
    ("prod with a volume claim on a PostgreSQL service", "prod",
     lambda d: (find(d, "Deployment", "projects")["spec"]["template"]["spec"]["volumes"].append(
         {"name": "data", "persistentVolumeClaim": {"claimName": "projects-data"}})),
     "Deployment/projects: stateless on PostgreSQL, yet it mounts PersistentVolumeClaim"),
    ("prod with the database password outside a Secret", "prod",
     lambda d: set_arg(d, "projects", "database-password-file", "/tmp/password"),
     "--database-password-file /tmp/password is not on a Secret volume"),
    ("prod with a plaintext Kafka client", "prod",
     lambda d: find(d, "ConfigMap", "missions")["data"].update(JILAF_KAFKA_SECURITY_PROTOCOL="plaintext"),
     "Deployment/missions: the Kafka listener wants TLS and SCRAM"),
    ("prod with a service using another's KafkaUser", "prod",
     lambda d: find(d, "ConfigMap", "missions")["data"].update(JILAF_KAFKA_SASL_USERNAME="notifications"),
     "Deployment/missions: authenticates as notifications, not as its own KafkaUser"),
    ("prod with an ACL that writes another service's topic", "prod",
     lambda d: find(d, "KafkaUser", "invitations")["spec"]["authorization"]["acls"].append(
         {"resource": {"type": "topic", "name": "jilaf.projects.events"}, "operations": ["Write"]}),
     "KafkaUser/invitations may ['Write'] topic jilaf.projects.events, which is not its own"),
    ("dev with a disruption budget on SQLite", "dev",
     lambda d: d.append(budget_for("invitations")),
     "Deployment/invitations: PodDisruptionBudget/invitations: a SQLite store allows one pod"),
    ("dev with an autoscaler on SQLite", "dev",
     lambda d: d.append(scaler_for("projects")),
     "Deployment/projects: HorizontalPodAutoscaler/projects: a SQLite store allows one pod"),
    ("dev with two SQLite replicas", "dev",
     lambda d: find(d, "Deployment", "invitations")["spec"].update(replicas=2),
     "Deployment/invitations: a SQLite store allows one writer"),
]


def check_refusals(repo, docs_by_overlay, help_flags, pending, families):
    """Runs every BROKEN variant; each must report its problem. Returns the failures."""
    global problems
    failures = []
    kept = problems
    for name, overlay, mutate, expected in BROKEN:
        source = next((docs for o, docs in docs_by_overlay.items() if o.startswith(overlay)), None)
        if source is None:
            failures.append(f"refusal control {name!r}: no rendered overlay {overlay}")
            continue
        docs = copy.deepcopy(source)
        mutate(docs)
        problems = []
        check_overlay(repo, overlay + ".yaml", docs, help_flags, pending, families)
        hits = [p for p in problems if expected in p]
        if hits:
            print(f"refused as it should ({name}): {hits[0]}")
        else:
            failures.append(f"refusal control {name!r} was not refused with {expected!r}; "
                            f"problems: {problems or 'none'}")
    problems = kept
    return failures


def main():
    args = sys.argv[1:]
    split = args.index("--")
    repo, metrics_dump, rendered = args[0], args[1], args[2:split]
    binaries = args[split + 1:]
    help_flags = {os.path.basename(b): parse_help(b) for b in binaries}
    pending = pending_flags(repo)
    dump = subprocess.run([metrics_dump], capture_output=True, text=True, check=True).stdout
    families = dict(re.findall(r"^# TYPE (\S+) (\S+)", dump, re.M))
    docs_by_overlay = {}
    for path in rendered:
        overlay = os.path.basename(path)
        docs = [d for d in yaml.safe_load_all(open(path, encoding="utf-8")) if d]
        docs_by_overlay[overlay] = docs
        check_overlay(repo, overlay, copy.deepcopy(docs), help_flags, pending, families)
    problems.extend(check_refusals(repo, docs_by_overlay, help_flags, pending, families))
    for p in problems:
        print("FAIL:", p)
    if problems:
        sys.exit(1)
    print(f"{len(rendered)} overlay(s): policy, ports, flags, probes, topics and metric names agree with {len(binaries)} binaries")


if __name__ == "__main__":
    main()

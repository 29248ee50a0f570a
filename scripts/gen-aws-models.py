#!/usr/bin/env python3
"""Writes src/proxy/models/aws-models.json.gz, the table the recording proxy places and renders
calls with, from botocore's published service models (the newest API version of each service).

Usage: python3 scripts/gen-aws-models.py [BOTOCORE_DATA_DIR]
Without an argument the data directory of the installed botocore is read. The output depends on
the models only (sorted keys, fixed gzip header), so running it twice gives the same bytes.

What is kept (everything else, documentation first, is dropped):
- per service: protocols, signingName, endpointPrefix, targetPrefix, apiVersion, jsonVersion,
  awsQueryCompatible, serviceId, globalEndpoint (the metadata hint) and globalRegion (the
  credential-scope region of a partition-global endpoint in endpoints.json);
- per operation: http method, requestUri, responseCode, input/output shape, hostPrefix, readonly;
- per shape: the structure needed to parse a request or answer and render it: members with
  location / locationName / queryName / flattened / xmlAttribute / streaming / hostLabel, list
  member and map key/value, payload member, required members, timestampFormat, sensitive,
  streaming, eventstream, union, document, and the error code of exception shapes.
Scalar shapes without any of those traits are written as their type letter, inline.
"""

import glob
import gzip
import io
import json
import os
import sys

SCALAR = {
    "string": "s",
    "integer": "i",
    "long": "i",
    "short": "i",
    "byte": "i",
    "float": "f",
    "double": "f",
    "bigdecimal": "f",
    "biginteger": "i",
    "boolean": "b",
    "timestamp": "t",
    "blob": "B",
}
COMPOUND = {"structure": "S", "list": "L", "map": "M"}
MEMBER_TRAITS = {
    "location": "l",
    "locationName": "n",
    "queryName": "q",
    "flattened": "f",
    "xmlAttribute": "x",
    "streaming": "st",
    "hostLabel": "h",
    "eventpayload": "ep",
    "jsonvalue": "jv",
}


def load(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as f:
        return json.load(f)


def shape_traits(shape):
    t = {}
    if shape.get("sensitive"):
        t["S"] = 1
    if shape.get("timestampFormat"):
        t["tf"] = shape["timestampFormat"]
    if shape.get("streaming"):
        t["st"] = 1
    if shape.get("eventstream"):
        t["es"] = 1
    if shape.get("document"):
        t["d"] = 1
    if shape.get("union"):
        t["u"] = 1
    if shape.get("flattened"):
        t["f"] = 1
    if shape.get("locationName"):
        t["n"] = shape["locationName"]
    if shape.get("payload"):
        t["p"] = shape["payload"]
    if shape.get("exception"):
        t["E"] = (shape.get("error") or {}).get("code", 1)
    return t


def compact_service(model):
    shapes = model["shapes"]

    def is_plain_scalar(name):
        s = shapes[name]
        return s["type"] in SCALAR and not shape_traits(s)

    def ref(member):
        target = member["shape"]
        traits = {MEMBER_TRAITS[k]: (1 if v is True else v) for k, v in member.items() if k in MEMBER_TRAITS}
        base = SCALAR[shapes[target]["type"]] if is_plain_scalar(target) else target
        if not traits:
            return base
        traits["s"] = base
        return traits

    out_shapes = {}
    for name in sorted(shapes):
        s = shapes[name]
        if is_plain_scalar(name):
            continue
        kind = s["type"]
        c = shape_traits(s)
        if kind in SCALAR:
            c["T"] = SCALAR[kind]
        elif kind in COMPOUND:
            c["T"] = COMPOUND[kind]
            if kind == "structure":
                c["m"] = {m: ref(v) for m, v in s.get("members", {}).items()}
                if s.get("required"):
                    c["r"] = sorted(s["required"])
            elif kind == "list":
                c["m"] = ref(s["member"])
            else:
                c["k"] = ref(s["key"])
                c["v"] = ref(s["value"])
        else:
            c["T"] = "s"
        out_shapes[name] = c

    ops = {}
    for name in sorted(model["operations"]):
        o = model["operations"][name]
        http = o.get("http", {})
        c = {"m": http.get("method", "POST"), "u": http.get("requestUri", "/")}
        if http.get("responseCode") not in (None, 200):
            c["rc"] = http["responseCode"]
        if o.get("input"):
            c["i"] = o["input"]["shape"]
        if o.get("output"):
            c["o"] = o["output"]["shape"]
        if (o.get("endpoint") or {}).get("hostPrefix"):
            c["hp"] = o["endpoint"]["hostPrefix"]
        if o.get("readonly"):
            c["ro"] = 1
        ops[name] = c
    return ops, out_shapes


def main():
    if len(sys.argv) > 1:
        data = sys.argv[1]
    else:
        import botocore

        data = os.path.join(os.path.dirname(botocore.__file__), "data")
    version = "unknown"
    try:
        import botocore

        version = botocore.__version__
    except ImportError:
        pass

    endpoints_path = next(p for p in (os.path.join(data, "endpoints.json"), os.path.join(data, "endpoints.json.gz")) if os.path.exists(p))
    endpoints = load(endpoints_path)
    aws = next(p for p in endpoints["partitions"] if p["partition"] == "aws")
    global_regions = {}
    for prefix, svc in aws["services"].items():
        if svc.get("isRegionalized") is False:
            ep = svc.get("partitionEndpoint")
            scope = (svc.get("endpoints", {}).get(ep, {}).get("credentialScope") or {}).get("region")
            global_regions[prefix] = scope or "us-east-1"

    services = {}
    for name in sorted(os.listdir(data)):
        d = os.path.join(data, name)
        if not os.path.isdir(d):
            continue
        versions = sorted(v for v in os.listdir(d) if glob.glob(os.path.join(d, v, "service-2.json*")))
        if not versions:
            continue
        path = sorted(glob.glob(os.path.join(d, versions[-1], "service-2.json*")))[0]
        model = load(path)
        meta = model["metadata"]
        ops, shapes = compact_service(model)
        svc = {
            "protocols": meta.get("protocols") or [meta["protocol"]],
            "endpointPrefix": meta["endpointPrefix"],
            "signingName": meta.get("signingName") or meta["endpointPrefix"],
            "apiVersion": meta["apiVersion"],
            "serviceId": meta.get("serviceId", name),
        }
        for key in ("targetPrefix", "jsonVersion", "globalEndpoint"):
            if meta.get(key):
                svc[key] = meta[key]
        if "awsQueryCompatible" in meta:
            svc["awsQueryCompatible"] = True
        if meta["endpointPrefix"] in global_regions:
            svc["globalRegion"] = global_regions[meta["endpointPrefix"]]
        svc["operations"] = ops
        svc["shapes"] = shapes
        services[name] = svc

    table = {"source": "botocore", "botocoreVersion": version, "services": services}
    text = json.dumps(table, sort_keys=True, separators=(",", ":")).encode("utf-8")
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src", "proxy", "models", "aws-models.json.gz")
    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode="wb", compresslevel=9, mtime=0, filename="") as gz:
        gz.write(text)
    with open(out, "wb") as f:
        f.write(buf.getvalue())
    print(f"{len(services)} services, {len(text)} bytes of JSON, {len(buf.getvalue())} bytes gzipped")


if __name__ == "__main__":
    main()

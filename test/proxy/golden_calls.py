"""Makes calls with botocore (the official Python client) for the proxy's golden test.

Reads JSON from stdin: {"endpoint": URL, "calls": [{"index", "service", "operation", "params",
"region"}]}. Each call is sent once (no retries, no parameter validation) to the endpoint with a
header naming its index; the answer, whatever it is, is ignored. Prints one line per call.
"""

import json
import sys

import botocore.session
from botocore.config import Config


def main():
    job = json.load(sys.stdin)
    session = botocore.session.get_session()
    config = Config(retries={"total_max_attempts": 1}, parameter_validation=False, connect_timeout=5, read_timeout=10)
    for call in job["calls"]:
        client = session.create_client(
            call["service"],
            region_name=call["region"],
            endpoint_url=job["endpoint"],
            aws_access_key_id="AKIAIOSFODNN7EXAMPLE",
            aws_secret_access_key="golden",
            config=config,
        )
        index = str(call["index"])

        def tag(request, index=index, **_):
            request.headers["x-golden-index"] = index

        client.meta.events.register("before-sign", tag)
        name = client.meta.method_to_api_mapping
        method = next(k for k, v in name.items() if v == call["operation"])
        try:
            getattr(client, method)(**call["params"])
            print(index, "ok")
        except Exception as e:  # the canned answer is often not what the client expects
            print(index, type(e).__name__)


if __name__ == "__main__":
    main()

"""Run the Jira test server by hand: `python -m tests.jira_server [cloud|dc] [--issues N]`."""

from __future__ import annotations

import argparse
import time

from .server import JiraServer


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.jira_server")
    parser.add_argument("flavor", nargs="?", default="cloud", choices=["cloud", "dc"])
    parser.add_argument("--issues", type=int, default=3, help="seed this many issues in project DEV")
    parser.add_argument("--lag", type=float, default=0.0, help="search index lag in seconds")
    args = parser.parse_args()
    with JiraServer(args.flavor, search_lag=args.lag) as server:
        for i in range(args.issues):
            server.seed_issue(f"Seeded issue {i + 1}", comments=["A first comment"])
        print(f"Jira ({args.flavor}) on {server.url}, project {server.project}; credentials:")
        for name, value in server.auth_env().items():
            print(f"  export {name}={value}")
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()

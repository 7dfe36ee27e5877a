"""Times Python vobject parsing a vCard file: prints the card count and the seconds taken.

The benchmarks compare our reader and our import against this (`cargo bench -p mingpian-card`,
`cargo bench -p mingpian-wallet`)."""
import sys
import time

import vobject

text = open(sys.argv[1], encoding="utf-8").read()
start = time.perf_counter()
n = sum(1 for _ in vobject.readComponents(text))
print(n, time.perf_counter() - start)

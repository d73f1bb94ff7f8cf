"""Where a batch's gradings run. One interface, `map(function, jobs)` -> results in the jobs' order,
so that grade.py does not know whether workers are threads here or machines elsewhere.

A function given to an executor takes one job and returns its result as data (worker.Graded): it
writes nothing the client reads, so it can run anywhere the job's inputs can travel.
"""

import concurrent.futures
import sys

from tqdm import tqdm


class LocalProcesses:
    """Each job on a thread of this machine, `jobs` at a time; the function starts the job's own process."""

    def __init__(self, jobs):
        self.jobs = max(1, jobs)

    def map(self, function, jobs, description):
        with concurrent.futures.ThreadPoolExecutor(max_workers=self.jobs) as pool:
            futures = [pool.submit(function, job) for job in jobs]
            for _ in tqdm(concurrent.futures.as_completed(futures), total=len(futures), desc=description,
                          unit="submission", file=sys.stderr):
                pass
        return [future.result() for future in futures]

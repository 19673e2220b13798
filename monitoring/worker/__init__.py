"""What runs beside the tasks in every worker process: a background thread that beats for
the task at hand and runs the sweeps other packages register (`monitoring.worker.thread`)."""

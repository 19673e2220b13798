"""django-q2's brokers (Q_CLUSTER["broker_class"]), telling a supervised cluster's
supervisor how many tasks its pusher took off the queue (monitoring.worker.beats): a
task taken and never started by a worker is work waiting inside a wedged cluster, which
the queue alone does not show (a taken entry looks busy until Q_RETRY)."""

from django_q.brokers.orm import ORM
from django_q.brokers.redis_broker import Redis

from monitoring.worker import beats as worker_beats


class _NotesTaken:
    def dequeue(self):
        tasks = super().dequeue()
        if tasks:
            worker_beats.tasks_taken(count=len(tasks))
        return tasks

    def fail(self, task_id):
        # The pusher fails what it cannot read (a bad signature): never handed to a worker.
        worker_beats.tasks_taken(count=-1)
        return super().fail(task_id)


class OrmBroker(_NotesTaken, ORM):
    pass


class RedisBroker(_NotesTaken, Redis):
    pass

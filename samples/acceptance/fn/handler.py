"""Answers with the greeting baked into the image at build time."""
import os


def handler(event, context):
    with open(os.path.join(os.environ["LAMBDA_TASK_ROOT"], "greeting.txt")) as f:
        return {"greeting": f.read()}

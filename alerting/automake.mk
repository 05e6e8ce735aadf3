# alerting

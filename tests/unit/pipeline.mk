# unit tests of ovs-ext component: pipeline (added by its author)

# unit tests of ovs-ext component: flow (added by its author)

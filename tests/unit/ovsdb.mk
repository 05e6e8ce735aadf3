# unit tests of ovs-ext component: ovsdb (added by its author)

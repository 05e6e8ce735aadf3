# unit tests of ovs-ext component: decode (added by its author)

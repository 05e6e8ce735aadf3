# ovs-ext component: ovsdb (files added by its author)

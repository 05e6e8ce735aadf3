# ovs-ext component: flow (files added by its author)

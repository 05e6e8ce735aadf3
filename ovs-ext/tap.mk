# ovs-ext component: tap (files added by its author)

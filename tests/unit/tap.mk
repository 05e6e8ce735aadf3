# unit tests of ovs-ext component: tap (added by its author)

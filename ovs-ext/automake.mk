# ovs-ext

"""kubespray on the controller and node1: the checkout, the inventory it is given, the
playbook run and its recap."""

"""A local multi-node network: the pilot's departments on one machine (`tanlian network`)."""

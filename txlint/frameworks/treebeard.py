"""django-treebeard: tree models on Django (materialized path, nested sets, adjacency list).

A project's tree model derives from one of treebeard's abstract Django models and inherits its
node API. The methods below write rows (checked in django-treebeard 7.0's mp_tree.py, ns_tree.py
and al_tree.py):

- `add_root`, `add_child`, `add_sibling` save a new node (and, for a child, bump the parent's
  `numchild`); given `instance=page`, the unsaved instance passed is the row they insert;
- `move` rewrites the paths (or bounds, or parents) of a subtree.

Each runs inside the manager's own `@transaction.atomic`, so one call is atomic on its own; what
the caller writes next commits apart (Django autocommit). The classmethod forms
(`Category.add_root(...)`) and the manager's (`Category.objects.add_root(...)`) do the same.
Deleting nodes is Django's delete (treebeard's query set wraps it in `transaction.atomic` too).
"""

NODE_BASES = ("treebeard.mp_tree.MP_Node", "treebeard.ns_tree.NS_Node", "treebeard.al_tree.AL_Node",
              "treebeard.models.Node")
NODE_MANAGER_BASES = ("treebeard.mp_tree.MP_NodeManager", "treebeard.ns_tree.NS_NodeManager",
                      "treebeard.al_tree.AL_NodeManager", "treebeard.models.NodeManager",
                      "treebeard.mp_tree.MP_NodeQuerySet", "treebeard.ns_tree.NS_NodeQuerySet")
# The methods that save a new node; `instance=` names the unsaved instance they insert.
NEW_NODE_METHODS = ("add_root", "add_child", "add_sibling")
NEW_NODE_KEYWORD = "instance"
# The methods that write rows of the tree, each in a transaction of its own.
NODE_WRITES = (*NEW_NODE_METHODS, "move")

"""Where the tests read kubespray from: the lab's own kubespray_source (the offline mirror's
bundle when present, else upstream), so a clone without ../shared runs them too, given
internet. Derived from group_data, never a path of this machine."""

from gourmetops.settings import target_settings

KUBESPRAY = str(target_settings("lab")[0]["kubespray_source"])

# Licensed under the Apache License, Version 2.0 (the "License"); you may
# not use this file except in compliance with the License. You may obtain
# a copy of the License at
#
#      http://www.apache.org/licenses/LICENSE-2.0
#
# Unless required by applicable law or agreed to in writing, software
# distributed under the License is distributed on an "AS IS" BASIS, WITHOUT
# WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied. See the
# License for the specific language governing permissions and limitations
# under the License.

"""Sphinx configuration of the arca-openstack documentation."""

# -- General configuration --------------------------------------------------

extensions = [
    'openstackdocstheme',
    # .. show-options:: renders the options registered for
    # oslo-config-generator (the oslo.config.opts entry points in setup.cfg).
    'oslo_config.sphinxext',
]

# openstackdocstheme
openstackdocs_repo_name = 'openstack/arca-openstack'
openstackdocs_bug_project = 'arca-openstack'
openstackdocs_bug_tag = 'doc'
openstackdocs_auto_name = False

templates_path = []
source_suffix = '.rst'
master_doc = 'index'

project = 'arca-openstack'
copyright = 'Arca Storage developers'

exclude_patterns = []
pygments_style = 'native'

# -- Options for HTML output ------------------------------------------------

html_theme = 'openstackdocs'
html_static_path = []
htmlhelp_basename = 'arca-openstackdoc'

#!/bin/bash
# plugin.sh - DevStack plugin of arca-openstack
#
# Makes this host an Arca storage node (a thin pool on a loop file, a
# Linux bridge for the SVMs, NFS-Ganesha) and configures the Arca Cinder
# volume driver and Manila share driver against it.
#
#     [[local|localrc]]
#     enable_plugin manila https://opendev.org/openstack/manila
#     enable_plugin arca-openstack <this repository>
#
# Enable it after manila's plugin: manila's post-config phase rewrites
# manila.conf and its rootwrap.d, so ours must come later. DevStack sources
# this file as "plugin.sh <mode> [<phase>]"; sourced without arguments it
# only defines its functions (tests/unit/test_devstack_plugin.py does so).
#
# DevStack globals used here: DEST, DATA_DIR, HOST_IP, REGION_NAME,
# CINDER_CONF, CINDER_CONF_DIR, MANILA_CONF, MANILA_CONF_DIR.
# shellcheck disable=SC2154

# Save trace setting
_XTRACE_ARCA=$(set +o | grep xtrace)
set -o xtrace

# What the node library writes on a storage node (arca_openstack/node).
ARCA_STATE_DIR=/var/lib/arca
ARCA_SVM_DIR=$ARCA_STATE_DIR/svm
ARCA_MNT_DIR=$ARCA_STATE_DIR/mnt
ARCA_RUN_DIR=/run/arca
ARCA_LOG_DIR=/var/log/arca
# Where process command lines are read (overridden by the unit tests).
ARCA_PROC_DIR=${ARCA_PROC_DIR:-/proc}

ARCA_CINDER_DRIVER=arca_openstack.cinder.driver.ArcaNFSDriver
ARCA_MANILA_DRIVER=arca_openstack.manila.driver.ArcaShareDriver
ARCA_STANDALONE_PLUGIN=manila.network.standalone_network_plugin.StandaloneNetworkPlugin
ARCA_NEUTRON_PLUGIN=manila.network.neutron.neutron_network_plugin.NeutronNetworkPlugin


# Helpers
# -------

# arca_manila_modes - set ARCA_MANILA_MODES to the
# driver_handles_share_servers values of the Manila backends to configure
# (ARCA_MANILA_DHSS: False, True or both)
function arca_manila_modes {
    case "${ARCA_MANILA_DHSS,,}" in
        false|no|off|0) ARCA_MANILA_MODES="False" ;;
        true|yes|on|1) ARCA_MANILA_MODES="True" ;;
        both) ARCA_MANILA_MODES="False True" ;;
        *) die $LINENO "ARCA_MANILA_DHSS must be False, True or both, not '$ARCA_MANILA_DHSS'" ;;
    esac
}

# arca_packages - the distribution packages a storage node needs
function arca_packages {
    if [[ -n "${ARCA_PACKAGES:-}" ]]; then
        echo "$ARCA_PACKAGES"
    elif is_ubuntu; then
        echo "lvm2 thin-provisioning-tools xfsprogs nfs-ganesha nfs-ganesha-vfs nfs-common drbd-utils iproute2"
    else
        # drbd-utils is not in the base repositories of RHEL-like
        # distributions (ELRepo ships it): DRBD is optional.
        echo "lvm2 device-mapper-persistent-data xfsprogs nfs-ganesha nfs-ganesha-vfs nfs-utils iproute"
    fi
}

# _arca_default_pool <range> - one arca_address_pools value: a veth pool
# on ARCA_BRIDGE whose gateway is the host's bridge address
function _arca_default_pool {
    echo "mode=veth,bridge=$ARCA_BRIDGE,cidr=$ARCA_NETWORK_CIDR,range=$1,gateway=$ARCA_BRIDGE_ADDRESS"
}

# _arca_add_to_list <file> <section> <option> <value> - append a value to
# a comma-separated option once
function _arca_add_to_list {
    local file=$1 section=$2 option=$3 value=$4
    local current
    current=$(iniget "$file" "$section" "$option")
    if [[ ",$current," == *",$value,"* ]]; then
        return 0
    fi
    iniset "$file" "$section" "$option" "${current:+$current,}$value"
}

# _arca_loop_devices - loop devices attached to ARCA_BACKING_FILE
function _arca_loop_devices {
    sudo losetup -j "$ARCA_BACKING_FILE" | awk -F: '{print $1}'
}

# _arca_is_our_svm <name> - whether an SVM belongs to this plugin's
# backends (their name prefixes and shared SVM names)
function _arca_is_our_svm {
    local name=$1
    case "$name" in
        "$ARCA_CINDER_SHARED_SVM"|"$ARCA_MANILA_SHARED_SVM")
            return 0 ;;
        "$ARCA_CINDER_SVM_PREFIX"*|"$ARCA_MANILA_SVM_PREFIX"*|"$ARCA_MANILA_DHSS_SVM_PREFIX"*)
            return 0 ;;
    esac
    return 1
}

# _arca_svm_names - SVMs on this host: their namespaces and records
function _arca_svm_names {
    {
        ip netns list 2>/dev/null | awk '{print $1}'
        sudo ls -1 "$ARCA_SVM_DIR" 2>/dev/null || true
    } | sort -u
}

# _arca_netns_exists <name>
function _arca_netns_exists {
    ip netns list 2>/dev/null | awk '{print $1}' | grep -qx -- "$1"
}

# _arca_is_svm_ganesha <pid> <svm> - the pid is the SVM's ganesha.nfsd
function _arca_is_svm_ganesha {
    local pid=$1 svm=$2
    local cmdline
    [[ -r "$ARCA_PROC_DIR/$pid/cmdline" ]] || return 1
    cmdline=$(tr '\0' ' ' < "$ARCA_PROC_DIR/$pid/cmdline")
    [[ "$cmdline" == *ganesha.nfsd*" -f $ARCA_SVM_DIR/$svm/ganesha.conf "* ]]
}

# _arca_stop_ganesha <svm> - stop the SVM's ganesha.nfsd (TERM, then KILL)
function _arca_stop_ganesha {
    local svm=$1
    local pid
    pid=$(sudo cat "$ARCA_RUN_DIR/ganesha-$svm.pid" 2>/dev/null || true)
    if [[ "$pid" =~ ^[1-9][0-9]*$ ]] && _arca_is_svm_ganesha "$pid" "$svm"; then
        sudo kill -TERM "$pid" || true
        local tries=20
        while [[ -e "$ARCA_PROC_DIR/$pid" ]] && (( tries-- > 0 )); do
            sleep 0.5
        done
        if [[ -e "$ARCA_PROC_DIR/$pid" ]]; then
            sudo kill -KILL "$pid" || true
        fi
    fi
    sudo rm -f "$ARCA_RUN_DIR/ganesha-$svm.pid" "$ARCA_RUN_DIR/ganesha-$svm.bind"
}


# Install
# -------

# install_arca - node packages and this package
function install_arca {
    if [[ "$ARCA_INSTALL_PACKAGES" == "True" ]]; then
        local packages
        read -r -a packages <<< "$(arca_packages)"
        install_package "${packages[@]}"
    fi
    if [[ "$ARCA_DISABLE_SYSTEM_GANESHA" == "True" ]]; then
        # Every SVM runs its own ganesha.nfsd in its namespace.
        sudo systemctl disable --now nfs-ganesha.service || true
    fi
    sudo modprobe -a dm_thin_pool xfs veth bridge || true
    # Lets each SVM's Ganesha own its D-Bus name: export changes then go
    # over D-Bus, not SIGHUP reloads of all the SVM's exports.
    sudo install -o root -g root -m 644 \
        "$ARCA_DIR"/etc/dbus-1/system.d/arca-ganesha.conf \
        /etc/dbus-1/system.d/arca-ganesha.conf
    setup_develop "$ARCA_DIR"
}

# arca_create_volume_group - the VG on a loop file and its thin pool, like
# lib/lvm's _create_lvm_volume_group (idempotent)
function arca_create_volume_group {
    local vg=$ARCA_VOLUME_GROUP
    if [[ "$ARCA_CREATE_VG" == "True" ]]; then
        if ! sudo vgs "$vg" >/dev/null 2>&1; then
            # Only create the file if it doesn't already exist
            [[ -f "$ARCA_BACKING_FILE" ]] || truncate -s "$ARCA_BACKING_FILE_SIZE" "$ARCA_BACKING_FILE"
            local vg_dev
            vg_dev=$(_arca_loop_devices | head -n 1)
            if [[ -z "$vg_dev" ]]; then
                vg_dev=$(sudo losetup -f --show "$ARCA_BACKING_FILE")
            fi
            # Only create the volume group if it doesn't already exist
            if ! sudo vgs "$vg" >/dev/null 2>&1; then
                sudo vgcreate "$vg" "$vg_dev"
            fi
        fi
    elif ! sudo vgs "$vg" >/dev/null 2>&1; then
        die $LINENO "Volume group $vg does not exist (ARCA_CREATE_VG=False)"
    fi
    if ! sudo lvs "$vg/$ARCA_THIN_POOL" >/dev/null 2>&1; then
        sudo lvcreate -y --type thin-pool -l "$ARCA_THIN_POOL_EXTENTS" -n "$ARCA_THIN_POOL" "$vg"
    fi
    sudo vgchange -ay "$vg"
}

# arca_setup_bridge - the SVMs' bridge with the host's address on it
function arca_setup_bridge {
    if [[ "$ARCA_CREATE_BRIDGE" != "True" ]]; then
        return 0
    fi
    local prefix=${ARCA_NETWORK_CIDR#*/}
    local src=${ARCA_BRIDGE_ROUTE_SRC-$HOST_IP}
    if ! ip link show dev "$ARCA_BRIDGE" >/dev/null 2>&1; then
        sudo ip link add "$ARCA_BRIDGE" type bridge
    fi
    sudo ip link set dev "$ARCA_BRIDGE" up
    if [[ -n "$src" ]]; then
        # Reach the SVMs from $src (Cinder's connector address, my_ip), so
        # the exports that admit the connector admit this host's mounts.
        sudo ip addr replace "$ARCA_BRIDGE_ADDRESS/$prefix" dev "$ARCA_BRIDGE" noprefixroute
        sudo ip route replace "$ARCA_NETWORK_CIDR" dev "$ARCA_BRIDGE" src "$src"
    else
        sudo ip addr replace "$ARCA_BRIDGE_ADDRESS/$prefix" dev "$ARCA_BRIDGE"
    fi
}

# init_arca_node - this host as an Arca storage node
function init_arca_node {
    arca_create_volume_group
    arca_setup_bridge
}


# Configure
# ---------

# arca_install_rootwrap_filters <conf dir> - the filters into
# <conf dir>/rootwrap.d, read by that service's rootwrap.conf
function arca_install_rootwrap_filters {
    local conf_dir=$1
    sudo install -d -o root -g root -m 755 "$conf_dir/rootwrap.d"
    sudo install -o root -g root -m 644 "$ARCA_DIR"/etc/rootwrap.d/*.filters "$conf_dir/rootwrap.d/"
}

# _arca_node_opts <file> <section> - the thin pool options
function _arca_node_opts {
    local file=$1 section=$2
    iniset "$file" "$section" arca_volume_group "$ARCA_VOLUME_GROUP"
    iniset "$file" "$section" arca_thin_pool "$ARCA_THIN_POOL"
}

# _arca_svm_opts <file> <section> <mapping> <prefix> <shared> <pools> -
# the SVM options; <pools> is a space-separated list of pool values
function _arca_svm_opts {
    local file=$1 section=$2 mapping=$3 prefix=$4 shared=$5
    local pools
    read -r -a pools <<< "$6"
    iniset "$file" "$section" arca_svm_mapping "$mapping"
    iniset "$file" "$section" arca_svm_name_prefix "$prefix"
    iniset "$file" "$section" arca_shared_svm_name "$shared"
    iniset_multiline "$file" "$section" arca_address_pools "${pools[@]}"
}

# configure_arca_cinder - the Cinder backend section
function configure_arca_cinder {
    local conf=${CINDER_CONF:-/etc/cinder/cinder.conf}
    local be=$ARCA_CINDER_BACKEND
    arca_install_rootwrap_filters "${CINDER_CONF_DIR:-/etc/cinder}"
    iniset "$conf" "$be" volume_driver "$ARCA_CINDER_DRIVER"
    iniset "$conf" "$be" volume_backend_name "$be"
    _arca_node_opts "$conf" "$be"
    _arca_svm_opts "$conf" "$be" "$ARCA_CINDER_SVM_MAPPING" \
        "$ARCA_CINDER_SVM_PREFIX" "$ARCA_CINDER_SHARED_SVM" \
        "${ARCA_CINDER_ADDRESS_POOLS:-$(_arca_default_pool "$ARCA_CINDER_ADDRESS_RANGE")}"
    _arca_add_to_list "$conf" DEFAULT enabled_backends "$be"
    if [[ "$ARCA_CINDER_DEFAULT_TYPE" == "True" ]]; then
        iniset "$conf" DEFAULT default_volume_type "$ARCA_CINDER_VOLUME_TYPE"
    fi
}

# _arca_manila_nfs_backend - driver_handles_share_servers = False
function _arca_manila_nfs_backend {
    local conf=$1
    local be=$ARCA_MANILA_BACKEND
    iniset "$conf" "$be" share_driver "$ARCA_MANILA_DRIVER"
    iniset "$conf" "$be" share_backend_name "$be"
    iniset "$conf" "$be" driver_handles_share_servers False
    _arca_node_opts "$conf" "$be"
    _arca_svm_opts "$conf" "$be" "$ARCA_MANILA_SVM_MAPPING" \
        "$ARCA_MANILA_SVM_PREFIX" "$ARCA_MANILA_SHARED_SVM" \
        "${ARCA_MANILA_ADDRESS_POOLS:-$(_arca_default_pool "$ARCA_MANILA_ADDRESS_RANGE")}"
    _arca_add_to_list "$conf" DEFAULT enabled_share_backends "$be"
}

# _arca_manila_dhss_backend - driver_handles_share_servers = True
function _arca_manila_dhss_backend {
    local conf=$1
    local be=$ARCA_MANILA_DHSS_BACKEND
    local mode=$ARCA_MANILA_SERVER_NETWORK_MODE
    iniset "$conf" "$be" share_driver "$ARCA_MANILA_DRIVER"
    iniset "$conf" "$be" share_backend_name "$be"
    iniset "$conf" "$be" driver_handles_share_servers True
    _arca_node_opts "$conf" "$be"
    iniset "$conf" "$be" arca_svm_name_prefix "$ARCA_MANILA_DHSS_SVM_PREFIX"
    iniset "$conf" "$be" arca_share_server_network_mode "$mode"
    case "$mode" in
        veth)
            iniset "$conf" "$be" arca_share_server_bridge "$ARCA_BRIDGE" ;;
        vlan|macvlan)
            if [[ -z "$ARCA_MANILA_SERVER_PARENT_INTERFACE" ]]; then
                die $LINENO "ARCA_MANILA_SERVER_PARENT_INTERFACE is required with ARCA_MANILA_SERVER_NETWORK_MODE=$mode"
            fi
            iniset "$conf" "$be" arca_share_server_parent_interface "$ARCA_MANILA_SERVER_PARENT_INTERFACE" ;;
        *)
            die $LINENO "ARCA_MANILA_SERVER_NETWORK_MODE must be veth, vlan or macvlan, not '$mode'" ;;
    esac
    case "$ARCA_MANILA_DHSS_NETWORK" in
        standalone)
            iniset "$conf" "$be" network_api_class "$ARCA_STANDALONE_PLUGIN"
            iniset "$conf" "$be" standalone_network_plugin_gateway "$ARCA_BRIDGE_ADDRESS"
            iniset "$conf" "$be" standalone_network_plugin_mask "${ARCA_NETWORK_CIDR#*/}"
            iniset "$conf" "$be" standalone_network_plugin_allowed_ip_ranges "$ARCA_MANILA_DHSS_ADDRESS_RANGE"
            if [[ -n "$ARCA_MANILA_DHSS_SEGMENTATION_ID" ]]; then
                if [[ "$mode" != vlan ]]; then
                    die $LINENO "ARCA_MANILA_DHSS_SEGMENTATION_ID needs ARCA_MANILA_SERVER_NETWORK_MODE=vlan"
                fi
                iniset "$conf" "$be" standalone_network_plugin_network_type vlan
                iniset "$conf" "$be" standalone_network_plugin_segmentation_id "$ARCA_MANILA_DHSS_SEGMENTATION_ID"
            else
                iniset "$conf" "$be" standalone_network_plugin_network_type flat
            fi
            ;;
        neutron)
            iniset "$conf" "$be" network_api_class "$ARCA_NEUTRON_PLUGIN" ;;
        *)
            die $LINENO "ARCA_MANILA_DHSS_NETWORK must be standalone or neutron, not '$ARCA_MANILA_DHSS_NETWORK'" ;;
    esac
    _arca_add_to_list "$conf" DEFAULT enabled_share_backends "$be"
}

# configure_arca_manila - the Manila backend section(s)
function configure_arca_manila {
    local conf=${MANILA_CONF:-/etc/manila/manila.conf}
    local dhss
    arca_manila_modes
    arca_install_rootwrap_filters "${MANILA_CONF_DIR:-/etc/manila}"
    for dhss in $ARCA_MANILA_MODES; do
        if [[ "$dhss" == "True" ]]; then
            _arca_manila_dhss_backend "$conf"
        else
            _arca_manila_nfs_backend "$conf"
        fi
    done
}

# configure_arca - the backends of the enabled services
function configure_arca {
    if is_service_enabled c-vol; then
        configure_arca_cinder
    fi
    if is_service_enabled m-shr; then
        configure_arca_manila
    fi
}


# Extra: types
# ------------

# _arca_share_type <name> <dhss: true|false> <backend>
function _arca_share_type {
    local name=$1 dhss=$2 be=$3
    if openstack share type show "$name" >/dev/null 2>&1; then
        return 0
    fi
    openstack share type create "$name" "$dhss" \
        --snapshot-support true \
        --create-share-from-snapshot-support true \
        --revert-to-snapshot-support true \
        --mount-snapshot-support true \
        --extra-specs "share_backend_name=$be"
}

# create_arca_types - volume type, share type(s), share network
function create_arca_types {
    if is_service_enabled c-api; then
        if ! openstack --os-region-name="$REGION_NAME" volume type show "$ARCA_CINDER_VOLUME_TYPE" >/dev/null 2>&1; then
            openstack --os-region-name="$REGION_NAME" volume type create \
                --property "volume_backend_name=$ARCA_CINDER_BACKEND" \
                "$ARCA_CINDER_VOLUME_TYPE"
        fi
    fi
    if is_service_enabled m-api; then
        local dhss
        arca_manila_modes
        for dhss in $ARCA_MANILA_MODES; do
            if [[ "$dhss" == "True" ]]; then
                _arca_share_type "$ARCA_MANILA_DHSS_SHARE_TYPE" true "$ARCA_MANILA_DHSS_BACKEND"
                if [[ "$ARCA_MANILA_DHSS_NETWORK" == "standalone" ]] && \
                        ! openstack share network show "$ARCA_MANILA_SHARE_NETWORK" >/dev/null 2>&1; then
                    openstack share network create --name "$ARCA_MANILA_SHARE_NETWORK"
                fi
            else
                _arca_share_type "$ARCA_MANILA_SHARE_TYPE" false "$ARCA_MANILA_BACKEND"
            fi
        done
    fi
}


# Test-config: Tempest
# --------------------

# configure_arca_tempest - what the backends support (devstack/tempest-
# options, shared with the lab's Tempest run) and this DevStack's backends
# and types, in $TEMPEST_CONFIG
function configure_arca_tempest {
    local section option value
    while read -r section option value; do
        if [[ -z "$section" || "$section" == \#* ]]; then
            continue
        fi
        iniset "$TEMPEST_CONFIG" "$section" "$option" "$value"
    done < "$ARCA_DIR/devstack/tempest-options"
    if is_service_enabled c-api; then
        iniset "$TEMPEST_CONFIG" volume backend_names "$ARCA_CINDER_BACKEND"
        iniset "$TEMPEST_CONFIG" volume volume_type "$ARCA_CINDER_VOLUME_TYPE"
    fi
    if is_service_enabled m-api; then
        # One tempest.conf tests one Manila mode: with both backends, the
        # one with driver_handles_share_servers = False.
        arca_manila_modes
        if [[ "$ARCA_MANILA_MODES" == "True" ]]; then
            iniset "$TEMPEST_CONFIG" share multitenancy_enabled True
            iniset "$TEMPEST_CONFIG" share backend_names "$ARCA_MANILA_DHSS_BACKEND"
            iniset "$TEMPEST_CONFIG" share default_share_type_name "$ARCA_MANILA_DHSS_SHARE_TYPE"
            if [[ "$ARCA_MANILA_DHSS_NETWORK" == "standalone" ]]; then
                iniset "$TEMPEST_CONFIG" share create_networks_when_multitenancy_enabled False
            fi
        else
            iniset "$TEMPEST_CONFIG" share multitenancy_enabled False
            iniset "$TEMPEST_CONFIG" share backend_names "$ARCA_MANILA_BACKEND"
            iniset "$TEMPEST_CONFIG" share default_share_type_name "$ARCA_MANILA_SHARE_TYPE"
        fi
    fi
}


# Unstack and clean
# -----------------

# arca_remove_svms - stop the Ganesha of each of our SVMs, delete its
# namespace (its interfaces go with it) and its record
function arca_remove_svms {
    local svm
    for svm in $(_arca_svm_names); do
        if ! _arca_is_our_svm "$svm"; then
            continue
        fi
        _arca_stop_ganesha "$svm"
        if _arca_netns_exists "$svm"; then
            sudo ip netns delete "$svm"
        fi
        sudo rm -rf "${ARCA_SVM_DIR:?}/$svm"
    done
}

# arca_unmount_all - unmount every filesystem under ARCA_MNT_DIR
function arca_unmount_all {
    local target
    { findmnt -rn -o TARGET || true; } | { grep "^$ARCA_MNT_DIR/" || true; } | sort -r |
        while read -r target; do
            sudo umount "$target" || sudo umount -l "$target"
            sudo rmdir "$target" || true
        done
}

# arca_remove_volume_group - the VG on our loop file, the loop device and
# the file (never a VG on anything else)
function arca_remove_volume_group {
    if [[ "$ARCA_CREATE_VG" != "True" || ! -e "$ARCA_BACKING_FILE" ]]; then
        return 0
    fi
    local dev vg
    for dev in $(_arca_loop_devices); do
        vg=$({ sudo pvs --noheadings -o vg_name "$dev" 2>/dev/null || true; } | tr -d ' ')
        if [[ "$vg" == "$ARCA_VOLUME_GROUP" ]]; then
            sudo vgremove -f "$vg"
        fi
        sudo losetup -d "$dev"
    done
    rm -f "$ARCA_BACKING_FILE"
}

# arca_remove_bridge
function arca_remove_bridge {
    if [[ "$ARCA_CREATE_BRIDGE" == "True" ]] && ip link show dev "$ARCA_BRIDGE" >/dev/null 2>&1; then
        sudo ip link del "$ARCA_BRIDGE"
    fi
}

# cleanup_arca - everything stack made on the node (unstack)
function cleanup_arca {
    arca_remove_svms
    arca_unmount_all
    arca_remove_volume_group
    arca_remove_bridge
}

# clean_arca - also the rootwrap filters and our SVMs' Ganesha logs (clean)
function clean_arca {
    local filter name log
    for filter in "$ARCA_DIR"/etc/rootwrap.d/*.filters; do
        name=$(basename "$filter")
        sudo rm -f "${CINDER_CONF_DIR:-/etc/cinder}/rootwrap.d/$name" \
            "${MANILA_CONF_DIR:-/etc/manila}/rootwrap.d/$name"
    done
    for log in $(sudo ls -1 "$ARCA_LOG_DIR" 2>/dev/null || true); do
        name=${log#ganesha-}
        name=${name%.log}
        if [[ "$log" == ganesha-*.log ]] && _arca_is_our_svm "$name"; then
            sudo rm -f "$ARCA_LOG_DIR/$log"
        fi
    done
}


# Dispatcher
# ----------

if is_service_enabled arca; then
    if [[ "$1" == "stack" && "$2" == "install" ]]; then
        echo_summary "Installing Arca storage node packages and arca-openstack"
        install_arca
        echo_summary "Creating the Arca thin pool and SVM bridge"
        init_arca_node
    elif [[ "$1" == "stack" && "$2" == "post-config" ]]; then
        echo_summary "Configuring Arca Cinder and Manila backends"
        configure_arca
    elif [[ "$1" == "stack" && "$2" == "extra" ]]; then
        echo_summary "Creating Arca volume and share types"
        create_arca_types
    elif [[ "$1" == "stack" && "$2" == "test-config" ]]; then
        if is_service_enabled tempest; then
            echo_summary "Configuring Tempest for the Arca backends"
            configure_arca_tempest
        fi
    fi

    if [[ "$1" == "unstack" ]]; then
        echo_summary "Removing Arca SVMs, mounts, thin pool and bridge"
        cleanup_arca
    fi

    if [[ "$1" == "clean" ]]; then
        cleanup_arca
        clean_arca
    fi
fi

# Restore xtrace
$_XTRACE_ARCA

// SPDX-License-Identifier: GPL-2.0
/*
 * A selftest's handle on one PCI device's system-sleep callbacks.
 *
 * Writing a PCI device name (e.g. 0000:00:11.0) to
 * /sys/kernel/debug/mp_pm_test/suspend_resume runs the PCI bus's suspend
 * and then resume callbacks for that device, which run its driver's: in
 * process context, with the device lock held and without RTNL, as the PM
 * core's device_suspend() and device_resume() do in a system sleep. The
 * noirq phases are not run; a driver that manages its PCI state in its
 * own callbacks (vmxnet3) goes through what a suspend-to-RAM cycle does
 * to it. The rest of the guest stays up: a whole-system cycle would reset
 * the virtio-9p device of the test guest's root, whose driver has no
 * restore callback.
 *
 * For tests only: it takes one device down and up on request.
 */

#include <linux/debugfs.h>
#include <linux/device.h>
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/pm.h>
#include <linux/string.h>
#include <linux/uaccess.h>

static struct dentry *mp_pm_test_dir;

/* Suspend and resume @dev as a system sleep would; its lock is held. */
static int mp_pm_test_cycle(struct device *dev)
{
	const struct dev_pm_ops *pm = dev->bus->pm;
	int err;

	if (!dev->driver)
		return -ENODEV;
	if (!pm || !pm->suspend || !pm->resume)
		return -EOPNOTSUPP;
	err = pm->suspend(dev);
	if (err)
		return err;
	return pm->resume(dev);
}

static ssize_t mp_pm_test_write(struct file *file, const char __user *ubuf,
				size_t len, loff_t *ppos)
{
	struct device *dev;
	char name[32];
	int err;

	if (!len || len >= sizeof(name))
		return -EINVAL;
	if (copy_from_user(name, ubuf, len))
		return -EFAULT;
	name[len] = '\0';
	dev = bus_find_device_by_name(&pci_bus_type, NULL, strim(name));
	if (!dev)
		return -ENODEV;
	device_lock(dev);
	err = mp_pm_test_cycle(dev);
	device_unlock(dev);
	put_device(dev);
	return err ?: len;
}

static const struct file_operations mp_pm_test_fops = {
	.owner = THIS_MODULE,
	.open = simple_open,
	.write = mp_pm_test_write,
};

static int __init mp_pm_test_init(void)
{
	mp_pm_test_dir = debugfs_create_dir("mp_pm_test", NULL);
	debugfs_create_file("suspend_resume", 0200, mp_pm_test_dir, NULL,
			    &mp_pm_test_fops);
	return 0;
}

static void __exit mp_pm_test_exit(void)
{
	debugfs_remove_recursive(mp_pm_test_dir);
}

module_init(mp_pm_test_init);
module_exit(mp_pm_test_exit);
MODULE_DESCRIPTION("Suspend and resume one PCI device from debugfs (selftests)");
MODULE_LICENSE("GPL");

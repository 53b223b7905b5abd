"""Data sets read from files: the shared :class:`~snndsl.runtime.datasets.base.Dataset`, binned event
streams (:mod:`.events`), the SHD/SSC HDF5 layout (:mod:`.hdf5`) and N-MNIST's event files (:mod:`.nmnist`).
"""

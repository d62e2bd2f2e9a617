//! Built-in PKI: keys, certificates, CA, CRL, OCSP, TSA, PKCS#12, PKCS#11 and CMS building.

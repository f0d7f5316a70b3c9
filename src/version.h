/* version.h - weir's version, and the versions of what it speaks:
 * ipvsadm's command syntax and IPVS's listing formats. */
#ifndef WEIR_VERSION_H
#define WEIR_VERSION_H

#define WEIR_VERSION "0.1.0"
#define WEIR_IPVSADM_VERSION "1.31"   /* weirctl's grammar and messages */
#define WEIR_IPVS_VERSION "1.2.1"     /* -L's "IP Virtual Server version" */

/* "(ipvsadm v1.31 syntax, IPVS v1.2.1 listings)": after a program's name
 * and version, as ipvsadm -v writes "(compiled with popt and IPVS v1.2.1)". */
#define WEIR_SPEAKS "(ipvsadm v" WEIR_IPVSADM_VERSION " syntax, IPVS v" WEIR_IPVS_VERSION \
	" listings)"

#endif

/* register.h - see register.c. */
#ifndef WEIR_REGISTER_H
#define WEIR_REGISTER_H

void weir_register(void);

#endif
